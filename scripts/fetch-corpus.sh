#!/usr/bin/env bash
# Fetches the text corpus of DESIGN.md §6 (Jane Austen's six novels, the World English Bible) from two
# Debian packages into a cache outside the build tree. Idempotent: pinned sha256 sums decide what is redone.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/fetch-corpus.sh [--help] [--print-sums]

Builds plain-text corpus files from two Debian packages, without R or SWORD installed:
  r-cran-janeaustenr  -> austen/{emma,mansfieldpark,northangerabbey,persuasion,prideprejudice,
                         sensesensibility}.txt (one line per element of the R character vector) and
                         austen.txt (the six in that order, a blank line between books)
  sword-text-web      -> web.txt (World English Bible with Deuterocanon, one verse per line, markup and
                         footnotes removed, books in the module's stored order)

Cache: ${ADAMAS_CACHE:-$HOME/.cache/adamas}/corpus/ (the .deb files are kept in its debs/ folder).
If every file there matches the sha256 pinned in this script, nothing is done. Otherwise the packages
are fetched with 'apt-get download' (unless the cached .deb files still match their pins; 'apt-get
update' runs first when the package lists are missing, which needs root), unpacked with 'dpkg -x',
extracted by scripts/corpus_extract.py and checked against the pins before they replace anything.

stdout: the corpus directory. stderr: progress and each file's size in characters and lines.
Exit status: 0 on success, 1 on any failure (nothing half-written is left), 2 on a usage error.

  --print-sums   print the sha256 of the cached files in the pin format of this script and exit
                 (to re-pin after a deliberate change of package version)
EOF
}

print_sums=0
case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    --print-sums) print_sums=1 ;;
    "") ;;
    *) echo "fetch-corpus.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
(($# <= 1)) || { echo "fetch-corpus.sh: too many arguments (try --help)" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${ADAMAS_CACHE:-$HOME/.cache/adamas}/corpus
packages=(r-cran-janeaustenr sword-text-web)

# sha256 of Debian bookworm's r-cran-janeaustenr 1.0.0-1 and sword-text-web 426.0-1 and of the files
# extracted from them, relative to the cache directory.
pins='
df6bddf211906d1ff404f8ff662c21b34e6660e7f54a311084e749050c019c95  debs/r-cran-janeaustenr_1.0.0-1_all.deb
930b23670b352f0829a306501de4bebb5e654a2df02cde2cbe86b802177868e1  debs/sword-text-web_426.0-1_all.deb
7c67b5985c6d0de1efaeb5d342d52cb82c38083c40e2295129e30e87ee690ebe  austen/emma.txt
98bc90519cdf4ef663ad7de2734bb529435ef24f7abbde6bb1a50898871dafe9  austen/mansfieldpark.txt
51f91bbe0517db8e65cff009b097ce0a1836124c4e0532ac19e6c0cad982abed  austen/northangerabbey.txt
8061549557aebd2fd6e353d18d9197cb707029112bd52d4d8b174583a925848a  austen/persuasion.txt
dfc684d4f857fa938268f9ab9c5567b64bd0691251eca959644adeabe6287a4d  austen/prideprejudice.txt
105e1651fe93bed7130078578efd31e0c557d68667ba672ddc876f735b30fe09  austen/sensesensibility.txt
ff4250a469524dbfeda7e414bfa9af1bdafc8464cedd6ea7c44b165c931200b1  austen.txt
7643fede3d9389ba90b832b6d5a76f244952ef23f768a897c234c3882e9c5e43  web.txt
'
pins=$(sed '/^$/d' <<<"$pins")
files=$(awk '{print $2}' <<<"$pins")
deb_pins=$(grep '  debs/' <<<"$pins")
text_files=$(grep -v '^debs/' <<<"$files")

die() {
    echo "fetch-corpus.sh: $*" >&2
    exit 1
}

# Succeeds when every file of the pin list $2 exists under directory $1 with its pinned sum.
matches_pins() {
    (cd "$1" 2>/dev/null && sha256sum --check --strict --quiet - <<<"$2") >/dev/null 2>&1
}

sums_of() {  # directory, then relative paths: prints "sha256  path" lines
    local dir=$1; shift
    (cd "$dir" && sha256sum -- "$@")
}

summary() {
    echo "fetch-corpus.sh: corpus in $cache" >&2
    # shellcheck disable=SC2086  # the file names have no spaces
    (cd "$cache" && python3 "$here/corpus_extract.py" summary $text_files)
    echo "$cache"
}

if ((print_sums)); then
    # shellcheck disable=SC2086
    sums_of "$cache" $files
    exit 0
fi

if matches_pins "$cache" "$pins"; then
    summary
    exit 0
fi

for tool in apt-get dpkg python3 sha256sum; do
    command -v "$tool" >/dev/null || die "'$tool' not found (this script needs a Debian-based system with python3)"
done

mkdir -p "$cache" || die "cannot create the cache directory $cache"
# The staging area sits inside the cache so the final renames stay on one file system.
work=$(mktemp -d "$cache/.staging.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/stage
mkdir -p "$stage/debs" "$work/root"

if matches_pins "$cache" "$deb_pins"; then
    echo "fetch-corpus.sh: reusing the pinned packages in $cache/debs" >&2
    cp "$cache"/debs/*.deb "$stage/debs/"
else
    echo "fetch-corpus.sh: downloading ${packages[*]}" >&2
    # As root, apt downloads as its sandbox user _apt, who cannot write into a private home's cache and
    # then warns and falls back to root; say so up front instead.
    apt_options=()
    [[ $(id -u) -ne 0 ]] || apt_options=(-o APT::Sandbox::User=root)
    download() { (cd "$stage/debs" && apt-get "${apt_options[@]}" download "${packages[@]}"); }
    if ! download; then
        if [[ $(id -u) -ne 0 ]]; then
            die "'apt-get download ${packages[*]}' failed. If the package lists are missing, run
'sudo apt-get update' and try again (this script runs it itself only as root)."
        fi
        echo "fetch-corpus.sh: download failed; running 'apt-get update' and retrying" >&2
        apt-get update || die "'apt-get update' failed"
        download || die "'apt-get download ${packages[*]}' failed even after 'apt-get update'"
    fi
    if ! matches_pins "$stage" "$deb_pins"; then
        echo "fetch-corpus.sh: the downloaded packages differ from the pinned ones:" >&2
        (cd "$stage" && sha256sum debs/*.deb) >&2
        die "expected:
$deb_pins
(a different package version: check it, then re-pin with the sums printed above)"
    fi
fi

for deb in "$stage"/debs/*.deb; do
    dpkg -x "$deb" "$work/root" || die "$deb: 'dpkg -x' failed"
done
python3 "$here/corpus_extract.py" austen "$work/root" "$stage" || die "Jane Austen extraction failed"
python3 "$here/corpus_extract.py" web "$work/root" "$stage" || die "World English Bible extraction failed"

if ! matches_pins "$stage" "$pins"; then
    echo "fetch-corpus.sh: the extracted files differ from the pinned ones; their sums:" >&2
    # shellcheck disable=SC2086
    (cd "$stage" && sha256sum $files 2>&1) >&2
    die "refusing to install them (expected the pins in $0)"
fi

# Every file is verified; rename each into place (atomic per file, same file system).
for file in $files; do
    mkdir -p "$(dirname "$cache/$file")"
    mv -f "$stage/$file" "$cache/$file"
done
summary
