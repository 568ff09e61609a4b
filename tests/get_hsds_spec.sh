#!/bin/sh
# Extract what the spec tests read from the HSDS specification (github.com/openreferral/specification,
# branch 3.0): datapackage.json and examples/csv/. Our workplace rule: nothing fetched is committed,
# so they go to a folder outside the repository, which the tests find through IVR_HSDS_SPEC.
#
#   tests/get_hsds_spec.sh /work/.mirror/openreferral+specification/repo /work/hsds-spec
#   IVR_HSDS_SPEC=/work/hsds-spec make test
#
# MIRROR is a clone or bare mirror of the specification; REF defaults to the 3.0 branch.
set -eu
mirror=${1:?usage: $0 MIRROR_GIT_DIR OUT_DIR [REF]}
out=${2:?usage: $0 MIRROR_GIT_DIR OUT_DIR [REF]}
ref=${3:-3.0}
repo=$(cd "$(dirname "$0")/.." && pwd)
case "$(mkdir -p "$out" && cd "$out" && pwd)/" in
  "$repo/"*) echo "$out is inside the repository: choose a folder outside it" >&2; exit 1 ;;
esac
git_dir=$mirror
[ -d "$mirror/.git" ] && git_dir=$mirror/.git
mkdir -p "$out/examples/csv"
git --git-dir "$git_dir" show "$ref:datapackage.json" > "$out/datapackage.json"
for path in $(git --git-dir "$git_dir" ls-tree --name-only "$ref" examples/csv/); do
  case "$path" in
    *.csv) git --git-dir "$git_dir" show "$ref:$path" > "$out/$path" ;;
  esac
done
# examples/csv/datapackage.json is a link to the root one in the specification too.
ln -sf ../../datapackage.json "$out/examples/csv/datapackage.json"
echo "HSDS $ref specification files in $out ($(git --git-dir "$git_dir" rev-parse --short "$ref"))"
