@chcp 65001 >nul
@echo off
rem Install the toolkit, the xlwings add-in and the toolkit's add-in for this Windows user (double-click).
title 安装整改台账工具
set PYTHONUTF8=1
cd /d "%~dp0.."
python --version >nul 2>&1
if errorlevel 1 (
  echo 找不到 Python。请先安装 Python 3.11 或更高版本（安装时勾选“Add python.exe to PATH”），再双击本文件。
  goto failed
)
echo 第1步：安装工具包（pip install -e .[excel]，本文件夹请保留在本机）……
python -m pip install -e ".[excel]"
if errorlevel 1 goto failed
echo.
echo 第2步：安装 Excel 加载项（python -m toolkit excel install）……
python -m toolkit excel install
if errorlevel 1 goto failed
echo.
echo 安装完成。请重新打开 Excel。
pause
exit /b 0
:failed
echo.
echo 安装未完成：请按上面的提示处理后再双击运行。
pause
exit /b 1
