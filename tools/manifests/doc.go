// Package manifests holds the test that decodes the manifests `evalrun k8s
// manifests` renders into the Kubernetes API types, strictly, and holds
// their pods to the restricted Pod Security Standard with the admission
// plugin's own checks.
package manifests
