#!/usr/bin/env bash
# Builds the otelcol-veltrim collector described by builder-config.yaml into
# _build/otelcol-veltrim.
#
# Steps:
#   1. build the pinned OpenTelemetry Collector Builder (ocb) into _build/;
#   2. let ocb generate the sources into distribution/ without its module step
#      (--skip-get-modules --skip-compilation). Its module step runs
#      `go mod tidy`, which fails at v0.155.0 because the k8sattributes
#      processor's tests import a contrib module that is not published
#      (pkg/xk8stest);
#   3. pin every module of the manifest in distribution/go.mod, which points at
#      the repository root with a replace, and run `go mod tidy -e`, which
#      tolerates the unpublished test-only modules;
#   4. go build with -mod=mod, which adds the go.sum lines that tidy -e leaves
#      out after such errors.
#
# Options:
#   --generate-only  stop after step 3 (refresh distribution/ without compiling)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ocb_version="v0.155.0"
build_dir="${root}/_build"
ocb="${build_dir}/ocb-${ocb_version}"
manifest="${root}/builder-config.yaml"
dist_dir="${root}/distribution"
binary="${build_dir}/otelcol-veltrim"

generate_only=false
if [[ "${1:-}" == "--generate-only" ]]; then
  generate_only=true
fi

start=${SECONDS}
mkdir -p "${build_dir}"

if [[ ! -x "${ocb}" ]]; then
  echo "build-collector: building ocb ${ocb_version}"
  tools_bin="$(mktemp -d)"
  trap 'rm -rf "${tools_bin}"' EXIT
  GOBIN="${tools_bin}" go install "go.opentelemetry.io/collector/cmd/builder@${ocb_version}"
  mv "${tools_bin}/builder" "${ocb}"
fi

echo "build-collector: generating sources into distribution/"
cd "${root}"
"${ocb}" --config "${manifest}" --skip-get-modules --skip-compilation >"${build_dir}/ocb.log" 2>&1 || {
  cat "${build_dir}/ocb.log" >&2
  exit 1
}
gofmt -w "${dist_dir}"/*.go

# Every module the manifest names is required at the manifest's version, so
# the manifest stays the one place where versions are chosen. The repository
# itself (v0.0.0) comes from the replace directive in distribution/go.mod.
cd "${dist_dir}"
sed -n 's/^[[:space:]]*-[[:space:]]*gomod:[[:space:]]*//p' "${manifest}" | sort -u |
  while read -r module version; do
    [[ "${module}" == "github.com/veltrix/veltrim" ]] && continue
    go mod edit -require="${module}@${version}"
  done
go mod tidy -e >"${build_dir}/tidy.log" 2>&1 || {
  cat "${build_dir}/tidy.log" >&2
  exit 1
}

if ${generate_only}; then
  echo "build-collector: sources and go.mod ready in distribution/"
  exit 0
fi

echo "build-collector: compiling ${binary#"${root}/"} (the first build takes several minutes on 2 cores)"
CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "-s -w" -o "${binary}" .
echo "build-collector: done in $((SECONDS - start))s: $("${binary}" --version)"
