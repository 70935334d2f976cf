Attribute VB_Name = "ZhenggaiButtons"

' Ribbon buttons of the ZhengGai (rectification ledger) add-in.
' Each button runs Preflight (ZhenggaiChecks: a saved workbook is active, the xlwings add-in and
' the Python interpreter are there), then hands over to Python through xlwings' RunPython,
' trapping its failure; every other check and all logic live in toolkit.excel_checks and
' toolkit.excel. Chinese text only inside string literals (see ZhenggaiChecks).
Option Explicit

Private Sub Press(ByVal button As String, ByVal title As String, Optional ByVal text As String = "")
    ' Runs toolkit.excel_checks.press, which compares ADDIN_VERSION with the toolkit's version;
    ' text (an opinion typed by the user) travels as hex digits, never as Python source.
    Dim problem As String, caption As String
    caption = title & "未完成"
    problem = Preflight()
    If problem <> "" Then
        MsgBox problem, vbExclamation, caption
        Exit Sub
    End If
    On Error GoTo Failed
    Application.Run "xlwings.xlam!RunPython", "import toolkit.excel_checks as g; g.press('" & ADDIN_VERSION & "', '" & button & "'" & Extra(text) & ")"
    Exit Sub
Failed:
    problem = "无法启动 Python（" & Err.Description & "）。请确认已运行 xlwings addin install；若单位禁止 Office 启动其他程序，请改用工作文件夹中的 .cmd 快捷方式或命令 python -m toolkit（" & title & "）。"
    MsgBox problem, vbExclamation, caption
End Sub

Private Function Extra(ByVal text As String) As String
    ' ", '<hex>'" when the button carries text: each UTF-16 code unit as 4 hex digits.
    Dim i As Long, hexed As String
    If text = "" Then Exit Function
    For i = 1 To Len(text)
        hexed = hexed & Right$("000" & Hex$(AscW(Mid$(text, i, 1)) And &HFFFF&), 4)
    Next i
    Extra = ", '" & hexed & "'"
End Function

Public Sub ZG_Consolidate(control As IRibbonControl)
    Press "consolidate_button", "汇总报送"
End Sub

Public Sub ZG_Refresh(control As IRibbonControl)
    Press "refresh_button", "刷新统计"
End Sub

Public Sub ZG_Highlight(control As IRibbonControl)
    Press "highlight_button", "标记逾期"
End Sub

Public Sub ZG_Notices(control As IRibbonControl)
    Press "notices_button", "生成通报"
End Sub

Public Sub ZG_Distribute(control As IRibbonControl)
    Press "distribute_button", "分发模板"
End Sub

Public Sub ZG_Remind(control As IRibbonControl)
    Press "remind_button", "催报"
End Sub

Public Sub ZG_Agree(control As IRibbonControl)
    Press "agree_button", "同意销号"
End Sub

Public Sub ZG_Return(control As IRibbonControl)
    ' The opinion is asked here; Python refuses an empty one and does everything else.
    Press "return_button", "退回补充", InputBox("请写明退回补充的审核意见（单位需补充的材料）：", "退回补充")
End Sub
