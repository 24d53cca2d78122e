import type { Label, Labels } from '@loki-lite/shared';
import type { LabelSelection, PipelineStage } from '../syntax/ast.js';

export type LabelsTransform = (labels: Labels) => Labels;

function selected(l: Label, selection: readonly LabelSelection[]): boolean {
  return selection.some((s) => s.name === l.name && (!s.matcher || s.matcher.matches(l.value)));
}

/**
 * The label-changing stages of a pipeline (drop, keep) as one function. Without parser stages the only
 * labels are the stream's, so this runs once per stream, not per line. Undefined when there are none.
 */
export function compileLabelStages(stages: readonly PipelineStage[]): LabelsTransform | undefined {
  const transforms: LabelsTransform[] = [];
  for (const stage of stages) {
    if (stage.kind === 'drop') transforms.push((ls) => ls.filter((l) => !selected(l, stage.labels)));
    else if (stage.kind === 'keep') transforms.push((ls) => ls.filter((l) => selected(l, stage.labels)));
  }
  if (transforms.length === 0) return undefined;
  return (labels) => transforms.reduce((ls, t) => t(ls), labels);
}
