/**
 * Loki's push.proto (logproto), as text: the reference schema that tests and benchmarks compile with
 * protobufjs to check and compare the hand-written codec in protobuf.ts.
 */
export const PUSH_PROTO = `
  syntax = "proto3";
  package logproto;
  message Timestamp { int64 seconds = 1; int32 nanos = 2; }
  message PushRequest { repeated StreamAdapter streams = 1; }
  message StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
  message EntryAdapter { Timestamp timestamp = 1; string line = 2; repeated LabelPairAdapter structuredMetadata = 3; }
  message LabelPairAdapter { string name = 1; string value = 2; }
`;
