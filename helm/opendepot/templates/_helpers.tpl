{{- /* Names: <release> when it already says opendepot, else <release>-opendepot; 63 characters at most. */ -}}
{{- define "opendepot.fullname" -}}
{{- if contains "opendepot" .Release.Name }}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{ else }}{{ printf "%s-opendepot" .Release.Name | trunc 63 | trimSuffix "-" }}{{ end -}}
{{- end -}}

{{- define "opendepot.namespace" -}}
{{- .Values.global.namespace | default .Release.Namespace -}}
{{- end -}}

{{- define "opendepot.image" -}}
{{ .Values.global.image.repository }}:{{ .Values.global.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "opendepot.labels" -}}
app.kubernetes.io/name: opendepot
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- /* Selector labels of a component: (dict "root" $ "component" "server") */ -}}
{{- define "opendepot.selector" -}}
app.kubernetes.io/name: opendepot
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- /* Object metadata of a component: (dict "root" $ "component" "server" "name" "x" "namespaced" true) */ -}}
{{- define "opendepot.metadata" -}}
name: {{ .name }}
{{- if .namespaced }}
namespace: {{ include "opendepot.namespace" .root }}
{{- end }}
labels:
  {{- include "opendepot.labels" .root | nindent 2 }}
  app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "opendepot.namespaces" -}}
{{- $list := list -}}
{{- range splitList "," .Values.watchNamespaces }}{{ with trim . }}{{ $list = append $list . }}{{ end }}{{ end -}}
{{- $list | uniq | toJson -}}
{{- end -}}

{{- define "opendepot.keysSecret" -}}
{{- .Values.keys.existingSecret | default .Values.keys.secretName | default (printf "%s-keys" (include "opendepot.fullname" .)) -}}
{{- end -}}

{{- /* https:// when a TLS entry of the Ingress covers the host (or names no hosts), else http://. */ -}}
{{- define "opendepot.publicUrl" -}}
{{- if .Values.server.publicUrl -}}
{{ .Values.server.publicUrl | trimSuffix "/" }}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts -}}
{{- $host := (first .Values.ingress.hosts).host -}}
{{- $tls := false -}}
{{- range .Values.ingress.tls }}{{ if or (not .hosts) (has $host .hosts) }}{{ $tls = true }}{{ end }}{{ end -}}
{{ ternary "https" "http" $tls }}://{{ $host }}
{{- else if and .Values.httpRoute.enabled .Values.httpRoute.hostnames -}}
{{ .Values.httpRoute.scheme }}://{{ first .Values.httpRoute.hostnames }}
{{- end -}}
{{- end -}}

{{- define "opendepot.oidcEnabled" -}}
{{- if and (not .Values.server.anonymousAuth) (or .Values.server.oidc.enabled .Values.dex.enabled) }}true{{ end -}}
{{- end -}}

{{- define "opendepot.dexIssuer" -}}
{{- $public := include "opendepot.publicUrl" . -}}
{{- if .Values.dex.issuerUrl }}{{ .Values.dex.issuerUrl | trimSuffix "/" }}{{ else if $public }}{{ $public }}/dex{{ else }}http://{{ include "opendepot.fullname" . }}-dex.{{ include "opendepot.namespace" . }}.svc.cluster.local:5556/dex{{ end -}}
{{- end -}}

{{- define "opendepot.oidcIssuer" -}}
{{- .Values.server.oidc.issuerUrl | default (ternary (include "opendepot.dexIssuer" .) "" .Values.dex.enabled) -}}
{{- end -}}

{{- /* Does the server call TokenReview/SubjectAccessReview? Kubernetes-token modes, and OIDC's SA fallback. */ -}}
{{- define "opendepot.serverReviews" -}}
{{- if not .Values.server.anonymousAuth }}{{ if include "opendepot.oidcEnabled" . }}{{ if .Values.server.oidc.allowServiceAccountFallback }}true{{ end }}{{ else }}true{{ end }}{{ end -}}
{{- end -}}

{{- define "opendepot.valkeyUrl" -}}
{{- if .Values.valkey.enabled }}redis://{{ include "opendepot.fullname" . }}-valkey.{{ include "opendepot.namespace" . }}.svc.cluster.local:6379{{ else }}{{ .Values.valkey.external.url }}{{ end -}}
{{- end -}}

{{- /* Pod-level knobs every workload shares: (dict "root" $ "v" .Values.server) */ -}}
{{- define "opendepot.podKnobs" -}}
{{- with .root.Values.global.imagePullSecrets }}
imagePullSecrets:{{ toYaml . | nindent 2 }}
{{- end }}
{{- with .v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .v.nodeSelector }}
nodeSelector:{{ toYaml . | nindent 2 }}
{{- end }}
{{- with .v.tolerations }}
tolerations:{{ toYaml . | nindent 2 }}
{{- end }}
{{- with .v.affinity }}
affinity:{{ toYaml . | nindent 2 }}
{{- end }}
{{- with .v.topologySpreadConstraints }}
topologySpreadConstraints:{{ toYaml . | nindent 2 }}
{{- end }}
securityContext:{{ toYaml .v.podSecurityContext | nindent 2 }}
{{- end -}}

{{- /* Pod template metadata: (dict "root" $ "v" .Values.server "component" "server" "extraLabels" dict "checksum" "") */ -}}
{{- define "opendepot.podMetadata" -}}
labels:
  {{- include "opendepot.selector" . | nindent 2 }}
  {{- with .extraLabels }}{{ toYaml . | nindent 2 }}{{ end }}
  {{- with .v.podLabels }}{{ toYaml . | nindent 2 }}{{ end }}
{{- $scrape := and .metricsPort .root.Values.metrics.enabled .root.Values.metrics.podAnnotations }}
{{- if or .v.podAnnotations .checksum $scrape }}
annotations:
  {{- with .checksum }}
  checksum/config: {{ . }}
  {{- end }}
  {{- if $scrape }}
  prometheus.io/scrape: "true"
  prometheus.io/port: {{ .metricsPort | quote }}
  prometheus.io/path: /metrics
  {{- end }}
  {{- with .v.podAnnotations }}{{ toYaml . | nindent 2 }}{{ end }}
{{- end }}
{{- end -}}

{{- /* Container-level knobs: probes, resources, securityContext. */ -}}
{{- define "opendepot.containerKnobs" -}}
{{- with .readinessProbe }}
readinessProbe:{{ toYaml . | nindent 2 }}
{{- end }}
{{- with .livenessProbe }}
livenessProbe:{{ toYaml . | nindent 2 }}
{{- end }}
resources:{{ toYaml .resources | nindent 2 }}
securityContext:{{ toYaml .securityContext | nindent 2 }}
{{- end -}}

{{- /* Labels both roles carry for Azure workload identity. */ -}}
{{- define "opendepot.storageLabels" -}}
{{- if and .Values.storage.azure.enabled .Values.storage.azure.workloadIdentity.enabled }}{{ dict "azure.workload.identity/use" "true" | toJson }}{{ else }}{}{{ end -}}
{{- end -}}

{{- /* Environment of both roles for the storage backends. */ -}}
{{- define "opendepot.storageEnv" -}}
{{- with .Values.storage.s3 }}{{ if and .enabled .region }}
- name: AWS_REGION
  value: {{ .region | quote }}
{{- end }}{{ end }}
{{- with .Values.storage.gcs }}{{ if and .enabled .existingSecret }}
- name: GOOGLE_APPLICATION_CREDENTIALS
  value: /etc/opendepot/gcs/{{ .existingSecretKey }}
{{- end }}{{ end }}
{{- with .Values.storage.azure }}{{ if and .enabled .accountName }}
- name: AZURE_STORAGE_ACCOUNT
  value: {{ .accountName | quote }}
{{- end }}{{ end }}
{{- end -}}

{{- define "opendepot.storageEnvFrom" -}}
{{- with .Values.storage.s3 }}{{ if and .enabled .existingSecret }}
- secretRef: { name: {{ .existingSecret }} }
{{- end }}{{ end }}
{{- with .Values.storage.azure }}{{ if and .enabled .existingSecret }}
- secretRef: { name: {{ .existingSecret }} }
{{- end }}{{ end }}
{{- end -}}

{{- /* Volumes and mounts of both roles for storage: (dict "root" $ "readOnly" true) */ -}}
{{- define "opendepot.storageVolumes" -}}
{{- with .root.Values.storage.filesystem }}{{ if .enabled }}
- name: modules
  persistentVolumeClaim: { claimName: {{ .existingClaim | default (printf "%s-modules" (include "opendepot.fullname" $.root)) }} }
{{- end }}{{ end }}
{{- with .root.Values.storage.gcs }}{{ if and .enabled .existingSecret }}
- name: gcs-credentials
  secret: { secretName: {{ .existingSecret }}, defaultMode: 0440 }
{{- end }}{{ end }}
{{- end -}}

{{- define "opendepot.storageMounts" -}}
{{- with .root.Values.storage.filesystem }}{{ if .enabled }}
- { name: modules, mountPath: {{ .mountPath }}, readOnly: {{ $.readOnly }} }
{{- end }}{{ end }}
{{- with .root.Values.storage.gcs }}{{ if and .enabled .existingSecret }}
- { name: gcs-credentials, mountPath: /etc/opendepot/gcs, readOnly: true }
{{- end }}{{ end }}
{{- end -}}

{{- define "opendepot.serviceAccountAnnotations" -}}
{{- $a := merge (dict) (.v.annotations | default dict) (.root.Values.serviceAccount.annotations | default dict) -}}
{{- with .root.Values.storage.azure }}{{ if and .enabled .workloadIdentity.enabled .workloadIdentity.clientId }}{{ $_ := set $a "azure.workload.identity/client-id" .workloadIdentity.clientId }}{{ end }}{{ end -}}
{{- with $a }}{{ toYaml . }}{{ end -}}
{{- end -}}

{{- /* The controller's image: the scanning variant (Trivy inside) when scanning is on. */ -}}
{{- define "opendepot.controllerImage" -}}
{{- if .Values.scanning.enabled -}}
{{ .Values.scanning.image.repository | default .Values.global.image.repository }}:{{ .Values.scanning.image.tag | default (printf "%s-scanning" (.Values.global.image.tag | default .Chart.AppVersion)) }}
{{- else -}}
{{ include "opendepot.image" . }}
{{- end -}}
{{- end -}}

{{- define "opendepot.trivyCacheClaim" -}}
{{- .Values.scanning.cache.existingClaim | default (printf "%s-trivy-cache" (include "opendepot.fullname" .)) -}}
{{- end -}}

{{- /* Storage policy flags of both roles: only what is set, so a policy document's own lists are not overridden by
empty flags. Trusted namespaces unset: the document's, else each role's own namespace (serve --namespace, the
controller's POD_NAMESPACE), which is the release namespace. */ -}}
{{- define "opendepot.storagePolicyArgs" -}}
{{- $p := .Values.storagePolicy }}
{{- with $p.trustedNamespaces }}
- --storage-trusted-namespaces={{ join "," . }}
{{- end }}
{{- with $p.allowedBackends }}
- --storage-allowed-backends={{ join "," . }}
{{- end }}
{{- with $p.allowedEndpoints }}
- --storage-allowed-endpoints={{ join "," . }}
{{- end }}
{{- with $p.allowedBuckets }}
- --storage-allowed-buckets={{ join "," . }}
{{- end }}
{{- with $p.allowedAzureAccounts }}
- --storage-allowed-azure-accounts={{ join "," . }}
{{- end }}
{{- with $p.filesystemRoots }}
- --storage-filesystem-roots={{ join "," . }}
{{- end }}
{{- end -}}

{{- define "opendepot.storagePolicyEnv" -}}
{{- if .Values.storagePolicy.document }}
- { name: OPENDEPOT_STORAGE_POLICY_FILE, value: /etc/opendepot/storage-policy/storage-policy.yaml }
{{- end }}
{{- end -}}

{{- /* A directory mount, not subPath: the kubelet then updates the file in place and the roles re-read it. */ -}}
{{- define "opendepot.storagePolicyMounts" -}}
{{- if .Values.storagePolicy.document }}
- { name: storage-policy, mountPath: /etc/opendepot/storage-policy, readOnly: true }
{{- end }}
{{- end -}}

{{- define "opendepot.storagePolicyVolumes" -}}
{{- if .Values.storagePolicy.document }}
- name: storage-policy
  configMap: { name: {{ include "opendepot.fullname" . }}-storage-policy }
{{- end }}
{{- end -}}

{{- /* The external Valkey's private CA, when one is given (only with an external URL). */ -}}
{{- define "opendepot.valkeyCa" -}}
{{- if and (not .Values.valkey.enabled) .Values.valkey.external.url .Values.valkey.external.caSecret }}true{{ end -}}
{{- end -}}

{{- /* The pod of the Trivy DB updater (CronJob and the install hook). */ -}}
{{- define "opendepot.trivyDbPod" -}}
{{- $scan := .Values.scanning }}
{{- $u := $scan.dbUpdater }}
restartPolicy: OnFailure
automountServiceAccountToken: false
{{- include "opendepot.podKnobs" (dict "root" . "v" $u) }}
containers:
  - name: trivy-db-updater
    image: {{ $u.image.repository }}:{{ $u.image.tag }}
    imagePullPolicy: {{ .Values.global.imagePullPolicy }}
    args:
      - image
      - --download-db-only
      - --cache-dir
      - {{ $scan.cacheMountPath }}
      {{- with $u.extraArgs }}{{ toYaml . | nindent 6 }}{{ end }}
    env:
      - { name: HOME, value: /tmp }
      - { name: TRIVY_NO_PROGRESS, value: "true" }
      {{- with $u.extraEnv }}{{ toYaml . | nindent 6 }}{{ end }}
    resources:{{ toYaml $u.resources | nindent 6 }}
    securityContext:{{ toYaml $u.securityContext | nindent 6 }}
    volumeMounts:
      - { name: trivy-cache, mountPath: {{ $scan.cacheMountPath }} }
      - { name: tmp, mountPath: /tmp }
volumes:
  - name: trivy-cache
    persistentVolumeClaim: { claimName: {{ include "opendepot.trivyCacheClaim" . }} }
  - { name: tmp, emptyDir: {} }
{{- end -}}
