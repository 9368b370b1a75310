#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager and kubectl from the Go
# modules pinned in internal/tools/kube/go.mod into VELTRIM_KUBE_BIN_DIR
# (default: <repository root>/_bin).
#
# The binaries are rebuilt only when one of them is missing or when the stamp
# file no longer matches the tools module's go.mod, go.sum, this script and the
# Go version. Pass --force to rebuild anyway.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="${root}/internal/tools/kube"
bin_dir="${VELTRIM_KUBE_BIN_DIR:-${root}/_bin}"
stamp_file="${bin_dir}/.kube-tools.stamp"
binaries=(etcd kube-apiserver kube-controller-manager kubectl)

force=false
if [[ "${1:-}" == "--force" ]]; then
  force=true
fi

# The stamp changes whenever a pinned version, the build flags or the Go
# toolchain change, so an old binary is never reused after such a change.
stamp="$(cat "${tools_dir}/go.mod" "${tools_dir}/go.sum" "${BASH_SOURCE[0]}" \
  <(go version) | sha256sum | cut -d' ' -f1)"

up_to_date() {
  [[ -f "${stamp_file}" && "$(cat "${stamp_file}")" == "${stamp}" ]] || return 1
  local name
  for name in "${binaries[@]}"; do
    [[ -x "${bin_dir}/${name}" ]] || return 1
  done
}

if ! ${force} && up_to_date; then
  echo "build-kube: binaries in ${bin_dir} are up to date"
  exit 0
fi

mkdir -p "${bin_dir}"
rm -f "${stamp_file}"
cd "${tools_dir}"

# kube-apiserver --version prints what these variables hold. Without them it
# reports v0.0.0-master. The build date is the release's commit time from
# the module proxy, so two builds of one release print the same version.
kube_version="$(go list -m -f '{{.Version}}' k8s.io/kubernetes)"
build_date="$(go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
kube_minor="$(cut -d. -f2 <<<"${kube_version}")"
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X ${pkg}.gitVersion=${kube_version}"
  ldflags+=" -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${kube_minor}"
  ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${build_date}"
done

echo "build-kube: building Kubernetes ${kube_version} and etcd into ${bin_dir}"
echo "build-kube: a first build takes 6 to 11 minutes on 2 cores; a rebuild from the Go build cache takes seconds"
start=${SECONDS}

go build -buildvcs=false -ldflags "${ldflags}" -o "${bin_dir}/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kubectl
go build -buildvcs=false -o "${bin_dir}/etcd" go.etcd.io/etcd/server/v3

echo "${stamp}" >"${stamp_file}"
echo "build-kube: done in $((SECONDS - start))s"
