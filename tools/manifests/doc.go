// Package manifests holds the test that decodes what `evalrun k8s
// manifests` renders into the Kubernetes API types, strictly, and holds
// the pods to the restricted Pod Security Standard with the admission
// plugin's own checks. The dependencies stay in this module, out of
// evalrun's.
package manifests
