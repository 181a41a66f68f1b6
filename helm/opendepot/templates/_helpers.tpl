{{- define "opendepot.image" -}}
{{ .Values.global.image.repository }}:{{ .Values.global.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- define "opendepot.labels" -}}
app.kubernetes.io/name: opendepot
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
{{- define "opendepot.namespaces" -}}
{{- if .Values.watchNamespaces }}{{ splitList "," .Values.watchNamespaces | toJson }}{{ else }}[]{{ end -}}
{{- end -}}
