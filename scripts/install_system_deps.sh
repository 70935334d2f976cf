#!/usr/bin/env bash
# System packages the tests and notices use: LibreOffice (recalculates formulas, renders
# workbooks and .docx to PDF), a CJK font (Chinese chart labels), Carlito (Calibri's widths, for
# printing the ledgers), poppler (PDF → PNG/text), Chromium (opens 看板.html headless in the dashboard test).
set -u
if [ "$(id -u)" != "0" ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
if ! command -v chromium >/dev/null 2>&1; then   # on its own: a failure here must not block LibreOffice
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
    || echo "警告：未能安装 chromium，看板的浏览器测试将跳过" >&2
fi
need=()
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc libreoffice-writer)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
# Column widths are counted in Calibri digits: without Calibri or its metric twin Carlito, LibreOffice
# measures wider columns and prints the ledgers smaller than Excel does.
fc-list 2>/dev/null | grep -qi -e "Carlito" -e "Calibri" || need+=(fonts-crosextra-carlito)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ ${#need[@]} -eq 0 ] && exit 0
$SUDO apt-get update -qq >/dev/null 2>&1 || true
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
  || { echo "警告：未能安装 ${need[*]}，依赖 LibreOffice 的测试将跳过" >&2; exit 0; }
