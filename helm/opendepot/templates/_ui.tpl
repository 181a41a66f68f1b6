{{- /* The Registry Explorer (ui.*): served by the server process itself (README "Registry Explorer (web UI)"). */ -}}

{{- /* Does the Explorer offer sign-in? Only when the registry verifies OIDC tokens. */ -}}
{{- define "opendepot.uiSignIn" -}}
{{- if and .Values.ui.enabled (include "opendepot.oidcEnabled" .) }}true{{ end -}}
{{- end -}}

{{- /* The client the Explorer signs in with: its own, else the registry's (--oidc-client-id). */ -}}
{{- define "opendepot.uiClientId" -}}
{{- .Values.ui.oidc.clientId | default .Values.server.oidc.clientId -}}
{{- end -}}

{{- /* A client other than the registry's: its ID tokens must be accepted as an audience too. */ -}}
{{- define "opendepot.uiOwnClient" -}}
{{- if and (include "opendepot.uiSignIn" .) .Values.ui.oidc.clientId (ne .Values.ui.oidc.clientId .Values.server.oidc.clientId) }}true{{ end -}}
{{- end -}}

{{- /* The Secret holding the client secret: yours (existingSecret), or the chart's when a value is given. */ -}}
{{- define "opendepot.uiSecretName" -}}
{{- with .Values.ui.oidc.clientSecret }}{{ if .existingSecret }}{{ .existingSecret }}{{ else if .value }}{{ include "opendepot.fullname" $ }}-ui-oidc{{ end }}{{ end -}}
{{- end -}}

{{- /* What --oidc-extra-audiences lists: server.oidc.extraAudiences plus the Explorer's own client. */ -}}
{{- define "opendepot.oidcExtraAudiences" -}}
{{- $a := .Values.server.oidc.extraAudiences | default list -}}
{{- if include "opendepot.uiOwnClient" . }}{{ $a = append $a .Values.ui.oidc.clientId }}{{ end -}}
{{- $a | uniq | toJson -}}
{{- end -}}

{{- /* Where Dex sends the browser back after sign-in; empty without a public URL (the browser's Host is not known). */ -}}
{{- define "opendepot.uiRedirectUri" -}}
{{- $public := include "opendepot.publicUrl" . -}}
{{- if and (include "opendepot.uiSignIn" .) $public }}{{ $public }}/auth/callback{{ end -}}
{{- end -}}

{{- /* Is the Explorer's client one the chart adds to Dex (its own id, not already in dex.staticClients)? */ -}}
{{- define "opendepot.uiDexNewClient" -}}
{{- $id := .Values.ui.oidc.clientId -}}
{{- $declared := false -}}
{{- range .Values.dex.staticClients }}{{ if eq (toString .id) $id }}{{ $declared = true }}{{ end }}{{ end -}}
{{- if and .Values.dex.enabled (include "opendepot.uiOwnClient" .) (include "opendepot.uiRedirectUri" .) (not $declared) }}true{{ end -}}
{{- end -}}

{{- /* Dex's static clients: the given list with the Explorer's redirect URI on the client it uses (added to the
registry's CLI client or to a declared one, or a client of its own), as JSON: (dict "root" $ "clients" list) */ -}}
{{- define "opendepot.dexStaticClients" -}}
{{- $root := .root -}}
{{- $clients := .clients -}}
{{- $redirect := include "opendepot.uiRedirectUri" $root -}}
{{- if $redirect -}}
{{- $id := include "opendepot.uiClientId" $root -}}
{{- $out := list -}}
{{- range $clients -}}
{{- if eq (toString .id) $id -}}
{{- $c := deepCopy . -}}
{{- $_ := set $c "redirectURIs" (append ($c.redirectURIs | default list) $redirect | uniq) -}}
{{- $out = append $out $c -}}
{{- else -}}
{{- $out = append $out . -}}
{{- end -}}
{{- end -}}
{{- if include "opendepot.uiDexNewClient" $root -}}
{{- $ui := dict "id" $id "name" "OpenDepot Registry Explorer" "redirectURIs" (list $redirect) -}}
{{- if include "opendepot.uiSecretName" $root }}{{ $_ := set $ui "secretEnv" "OPENDEPOT_UI_OIDC_CLIENT_SECRET" }}{{ else }}{{ $_ := set $ui "public" true }}{{ end -}}
{{- $out = append $out $ui -}}
{{- end -}}
{{- $clients = $out -}}
{{- end -}}
{{- $clients | toJson -}}
{{- end -}}

{{- /* The Dex container's env for a confidential Explorer client the chart adds (Dex reads it via secretEnv). */ -}}
{{- define "opendepot.uiDexEnv" -}}
{{- if and (include "opendepot.uiDexNewClient" .) (include "opendepot.uiSecretName" .) }}
- name: OPENDEPOT_UI_OIDC_CLIENT_SECRET
  valueFrom: { secretKeyRef: { name: {{ include "opendepot.uiSecretName" . }}, key: {{ .Values.ui.oidc.clientSecret.key }} } }
{{- end }}
{{- end -}}

{{- /* Flags of `opendepot serve` for the Explorer. The secret is a file, never a flag value. */ -}}
{{- define "opendepot.uiArgs" -}}
- --ui={{ ternary "on" "off" .Values.ui.enabled }}
{{- if include "opendepot.uiSignIn" . }}
{{- with .Values.ui.oidc.clientId }}
- --ui-oidc-client-id={{ . }}
{{- end }}
{{- if include "opendepot.uiSecretName" . }}
- --ui-oidc-client-secret-file=/etc/opendepot/ui-oidc/{{ .Values.ui.oidc.clientSecret.key }}
{{- end }}
{{- with .Values.ui.oidc.scopes }}
- --ui-oidc-scopes={{ join "," . }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "opendepot.uiMounts" -}}
{{- if and (include "opendepot.uiSignIn" .) (include "opendepot.uiSecretName" .) }}
- { name: ui-oidc, mountPath: /etc/opendepot/ui-oidc, readOnly: true }
{{- end }}
{{- end -}}

{{- /* Only the one key is projected, so nothing else of a shared Secret lands in the pod. defaultMode 288 is 0440 in
decimal: YAML 1.1 and 1.2 read a leading-zero number differently. */ -}}
{{- define "opendepot.uiVolumes" -}}
{{- if and (include "opendepot.uiSignIn" .) (include "opendepot.uiSecretName" .) }}
- name: ui-oidc
  secret: { secretName: {{ include "opendepot.uiSecretName" . }}, items: [{ key: {{ .Values.ui.oidc.clientSecret.key }}, path: {{ .Values.ui.oidc.clientSecret.key }} }], defaultMode: 288 }
{{- end }}
{{- end -}}
