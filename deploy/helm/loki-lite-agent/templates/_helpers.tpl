{{- define "agent.name" -}}{{ .Release.Name }}-loki-lite-agent{{- end -}}
{{- define "agent.labels" -}}
app.kubernetes.io/name: loki-lite-agent
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
