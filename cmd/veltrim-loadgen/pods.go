package main

import (
	"fmt"
	"strings"
)

// pod is the identity the load generator puts on a span's resource, the same
// k8s.* attributes the k8sattributes processor adds in a cluster.
type pod struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	UID       string `json:"uid"`
}

// podList is a repeatable -pod flag of the form namespace/name/uid.
type podList []pod

func (l *podList) String() string {
	parts := make([]string, 0, len(*l))
	for _, p := range *l {
		parts = append(parts, p.Namespace+"/"+p.Name+"/"+p.UID)
	}
	return strings.Join(parts, ",")
}

func (l *podList) Set(value string) error {
	fields := strings.Split(value, "/")
	if len(fields) != 3 || fields[0] == "" || fields[1] == "" || fields[2] == "" {
		return fmt.Errorf("invalid -pod %q: expected namespace/name/uid", value)
	}
	*l = append(*l, pod{Namespace: fields[0], Name: fields[1], UID: fields[2]})
	return nil
}

// syntheticPods returns count made-up pods of a Deployment named llm, for
// runs without a cluster such as the throughput benchmark.
func syntheticPods(count int) []pod {
	pods := make([]pod, count)
	for i := range pods {
		pods[i] = pod{
			Namespace: "default",
			Name:      fmt.Sprintf("llm-synthetic-%d", i),
			UID:       fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
		}
	}
	return pods
}
