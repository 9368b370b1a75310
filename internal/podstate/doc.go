// Package podstate holds the contract between the veltrim processor and the
// veltrim exporter: how a pod is identified from resource attributes, the
// resource attributes the processor stamps with the pod's state, and the pod
// annotations the exporter publishes from them.
package podstate
