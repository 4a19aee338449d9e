{{/* Names */}}
{{- define "gatehouse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gatehouse.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A component's resource name: (dict "root" $ "component" "edge") */}}
{{- define "gatehouse.componentName" -}}
{{- printf "%s-%s" (include "gatehouse.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gatehouse.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels: (dict "root" $ "component" "edge" "group" "default") — group for runners only */}}
{{- define "gatehouse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gatehouse.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- if .group }}
gatehouse/runner-group: {{ .group }}
{{- end }}
{{- end -}}

{{- define "gatehouse.labels" -}}
helm.sh/chart: {{ include "gatehouse.chart" .root }}
{{ include "gatehouse.selectorLabels" . }}
app.kubernetes.io/part-of: gatehouse
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- if .root.Chart.AppVersion }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{- end }}
{{- end -}}

{{- define "gatehouse.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "gatehouse.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The image: (dict "root" $ "image" <optional override map>) */}}
{{- define "gatehouse.image" -}}
{{- $image := merge (default dict .image) .root.Values.image -}}
{{- printf "%s:%s" $image.repository (default .root.Chart.AppVersion (toString $image.tag)) -}}
{{- end -}}

{{- define "gatehouse.natsUrl" -}}
{{- if .Values.nats.external.url -}}
{{- .Values.nats.external.url -}}
{{- else -}}
{{- printf "nats://%s:4222" (include "gatehouse.componentName" (dict "root" . "component" "nats")) -}}
{{- end -}}
{{- end -}}

{{- define "gatehouse.configMapName" -}}
{{- default (include "gatehouse.componentName" (dict "root" . "component" "config")) .Values.existingConfigMap -}}
{{- end -}}

{{- define "gatehouse.envSecretName" -}}
{{- include "gatehouse.componentName" (dict "root" . "component" "env") -}}
{{- end -}}

{{- define "gatehouse.databaseSecretName" -}}
{{- if .Values.auth.database.existingSecret -}}
{{- .Values.auth.database.existingSecret -}}
{{- else -}}
{{- include "gatehouse.componentName" (dict "root" . "component" "database") -}}
{{- end -}}
{{- end -}}

{{- define "gatehouse.hasDatabase" -}}
{{- if or .Values.auth.database.existingSecret .Values.auth.database.url -}}true{{- end -}}
{{- end -}}

{{/* The config file's text, from configFile or config (not existingConfigMap). */}}
{{- define "gatehouse.configText" -}}
{{- if .Values.configFile -}}
{{- .Values.configFile -}}
{{- else -}}
{{- toPrettyJson .Values.config -}}
{{- end -}}
{{- end -}}

{{/* Refuses values that cannot work; included by every workload template. */}}
{{- define "gatehouse.validate" -}}
{{- if and (gt (int .Values.auth.replicas) 1) (not (include "gatehouse.hasDatabase" .)) -}}
{{- fail "auth.replicas > 1 needs PostgreSQL: set auth.database.existingSecret or auth.database.url (DATABASE_URL); SQLite cannot be shared between replicas" -}}
{{- end -}}
{{- if and (gt (int .Values.auth.replicas) 1) .Values.auth.persistence.enabled (not (include "gatehouse.hasDatabase" .)) -}}
{{- fail "auth.persistence is for one SQLite replica" -}}
{{- end -}}
{{- if not (or .Values.existingConfigMap .Values.configFile .Values.config) -}}
{{- fail "no Gatehouse config: set config, configFile or existingConfigMap" -}}
{{- end -}}
{{- if not .Values.runners -}}
{{- fail "runners: at least one runner group is needed" -}}
{{- end -}}
{{- $groups := list -}}
{{- range .Values.runners -}}
{{- if has .name $groups -}}
{{- fail (printf "runners: the group %q is listed twice" .name) -}}
{{- end -}}
{{- $groups = append $groups .name -}}
{{- end -}}
{{- if not .Values.existingConfigMap -}}
{{- $config := include "gatehouse.configText" . | fromJson -}}
{{- if hasKey $config "Error" -}}
{{- fail (printf "configFile is not valid JSON: %s" $config.Error) -}}
{{- end -}}
{{- range $server, $spec := (default dict $config.mcpServers) -}}
{{- $group := default "default" $spec.runnerGroup -}}
{{- if not (has $group $groups) -}}
{{- fail (printf "mcpServers.%s has runnerGroup %q, but runners has no group of that name (runners: %s)" $server $group (join ", " $groups)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Checksums that roll the pods when the config or the chart's env Secret change. */}}
{{- define "gatehouse.checksums" -}}
{{- if not .Values.existingConfigMap }}
checksum/config: {{ include "gatehouse.configText" . | sha256sum }}
{{- end }}
checksum/env: {{ toJson .Values.secrets.env | sha256sum }}
{{- end -}}

{{/* Environment shared by every Gatehouse container. */}}
{{- define "gatehouse.env" -}}
- name: NATS_URL
  value: {{ include "gatehouse.natsUrl" . | quote }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "gatehouse.envFrom" -}}
{{- if .Values.secrets.env }}
- secretRef:
    name: {{ include "gatehouse.envSecretName" . }}
{{- end }}
{{- range .Values.secrets.existingSecrets }}
- secretRef:
    name: {{ . }}
{{- end }}
{{- end -}}

{{/* With metrics.enabled: the flag every service takes after its role's own, and its port. */}}
{{- define "gatehouse.metricsArgs" -}}
- --metrics-addr
- {{ printf "0.0.0.0:%d" (int .Values.metrics.port) | quote }}
{{- end -}}

{{- define "gatehouse.metricsPort" -}}
- name: metrics
  containerPort: {{ .Values.metrics.port }}
  protocol: TCP
{{- end -}}

{{/* Pod-level settings every Gatehouse pod shares. */}}
{{- define "gatehouse.podCommon" -}}
serviceAccountName: {{ include "gatehouse.serviceAccountName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}

{{/* The volumes every Gatehouse pod has: the config and /tmp. */}}
{{- define "gatehouse.commonVolumes" -}}
- name: config
  configMap:
    name: {{ include "gatehouse.configMapName" . }}
    items:
      - key: config.json
        path: config.json
- name: tmp
  emptyDir:
    {{- with .Values.tmpVolume.sizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
{{- end -}}

{{- define "gatehouse.commonVolumeMounts" -}}
- name: config
  mountPath: /config
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* A PodDisruptionBudget: (dict "root" $ "component" "edge" "group" "" "name" NAME "pdb" PDBVALUES) */}}
{{- define "gatehouse.pdb" -}}
{{- if .pdb.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  labels:
    {{- include "gatehouse.labels" . | nindent 4 }}
spec:
  {{- if hasKey .pdb "minAvailable" }}
  minAvailable: {{ .pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .pdb.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "gatehouse.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end -}}
