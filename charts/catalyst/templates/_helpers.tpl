{{/* The release's objects are named after the release (the kit's release is "catalyst": Service catalyst:80). */}}
{{- define "catalyst.fullname" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "catalyst.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "catalyst.labels" -}}
{{ include "catalyst.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "catalyst.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "catalyst.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "catalyst.cnpgName" -}}
{{- .Values.database.cnpg.name | default (printf "%s-db" (include "catalyst.fullname" .)) -}}
{{- end -}}

{{/* The Secret holding the database URL: the CNPG cluster's application Secret, or the one given. */}}
{{- define "catalyst.databaseSecret" -}}
{{- if .Values.database.cnpg.enabled -}}
{{- printf "%s-app" (include "catalyst.cnpgName" .) -}}
{{- else -}}
{{- required "database.existingSecret: name the Secret holding the PostgreSQL URL, or set database.cnpg.enabled" .Values.database.existingSecret -}}
{{- end -}}
{{- end -}}

{{- define "catalyst.databaseKey" -}}
{{- if .Values.database.cnpg.enabled -}}uri{{- else -}}{{ .Values.database.key }}{{- end -}}
{{- end -}}
