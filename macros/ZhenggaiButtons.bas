Attribute VB_Name = "ZhenggaiButtons"

' Ribbon buttons of the ZhengGai (rectification ledger) add-in.
' Each button first calls the resident service (python -m toolkit serve) over HTTP with
' MSXML2.ServerXMLHTTP: no process is started, so the Office rule against child processes does
' not apply. The port is read from .zhenggai\serve.json and the token from .zhenggai\serve.token
' in the workspace holding the workbook. The open ledger is saved and closed for the service
' (which replaces the file) and opened again after. When the service does not answer, the button
' falls back to xlwings' RunPython (Preflight in ZhenggaiChecks first), trapping its failure; the
' message then says which path failed. All logic lives in toolkit.serve, toolkit.excel_checks and
' toolkit.excel. Chinese text only inside string literals (see ZhenggaiChecks).
Option Explicit

Private Const TOKEN_HEADER As String = "X-Zhenggai-Token"
Private Const STATE_FILE As String = ".zhenggai\serve.json"
Private Const TOKEN_FILE As String = ".zhenggai\serve.token"
Private Const API_PATH As String = "/api/"

Private Sub Press(ByVal button As String, ByVal title As String, ByVal operation As String, _
                  Optional ByVal text As String = "", Optional ByVal conclusion As String = "")
    ' Runs toolkit.excel_checks.press, which compares ADDIN_VERSION with the toolkit's version;
    ' text (an opinion typed by the user) travels as hex digits, never as Python source.
    Dim problem As String, caption As String, service As String, answer As String
    caption = title & "未完成"
    If Not ActiveWorkbook Is Nothing Then
        If ActiveWorkbook.Path <> "" Then
            If ViaService(operation, title, text, conclusion, answer, service) Then
                If Left$(answer, 1) = "!" Then
                    MsgBox Mid$(answer, 2), vbExclamation, caption
                Else
                    MsgBox answer, vbInformation, title & "完成"
                End If
                Exit Sub
            End If
        End If
    End If
    problem = Preflight()
    If problem <> "" Then
        MsgBox service & problem, vbExclamation, caption
        Exit Sub
    End If
    On Error GoTo Failed
    Application.Run "xlwings.xlam!RunPython", "import toolkit.excel_checks as g; g.press('" & ADDIN_VERSION & "', '" & button & "'" & Extra(text) & ")"
    Exit Sub
Failed:
    problem = "无法启动 Python（" & Err.Description & "）。请确认已运行 xlwings addin install；若单位禁止 Office 启动其他程序，请启动整改台账服务（python -m toolkit serve -c 工作文件夹，或加 --install 随开机启动）后再点按钮，或改用工作文件夹中的 .cmd 快捷方式（" & title & "）。"
    MsgBox service & problem, vbExclamation, caption
End Sub

Private Function ReadText(ByVal path As String) As String
    ' The first line of a small ASCII file, or "" when it is not there.
    Dim n As Integer, line As String
    On Error GoTo Missing
    If Dir(path) = "" Then Exit Function
    n = FreeFile
    Open path For Input As #n
    If Not EOF(n) Then Line Input #n, line
    Close #n
    ReadText = Trim$(line)
    Exit Function
Missing:
    ReadText = ""
End Function

Private Function ServiceRoot(ByVal folder As String) As String
    ' The workspace folder above the workbook (itself or up to two levels up) where a service left serve.json.
    Dim i As Integer, sep As String
    sep = Application.PathSeparator
    For i = 0 To 2
        If folder = "" Then Exit Function
        If ReadText(folder & sep & STATE_FILE) <> "" Then
            ServiceRoot = folder
            Exit Function
        End If
        If InStrRev(folder, sep) = 0 Then Exit Function
        folder = Left$(folder, InStrRev(folder, sep) - 1)
    Next i
End Function

Private Function PortOf(ByVal state As String) As String
    ' The digits after "port": in serve.json.
    Dim at As Long, i As Long, c As String
    at = InStr(state, """port""")
    If at = 0 Then Exit Function
    For i = at + 6 To Len(state)
        c = Mid$(state, i, 1)
        If InStr("0123456789", c) > 0 Then
            PortOf = PortOf & c
        ElseIf PortOf <> "" Then
            Exit Function
        End If
    Next i
End Function

Private Function Http(ByVal method As String, ByVal url As String, ByVal token As String, ByVal body As String, _
                      ByRef status As Long) As String
    ' One request; raises when nothing answers at the address.
    Dim req As Object
    Set req = CreateObject("MSXML2.ServerXMLHTTP.6.0")
    req.setTimeouts 2000, 2000, 10000, 3600000
    req.Open method, url, False
    req.setRequestHeader TOKEN_HEADER, token
    req.setRequestHeader "Accept", "text/plain"
    req.setRequestHeader "Content-Type", "application/json"
    req.send body
    status = req.Status
    Http = req.responseText
End Function

Private Function JsonText(ByVal s As String) As String
    ' A JSON string literal in ASCII: quotes, backslashes, control and non-ASCII characters as \uXXXX.
    Dim i As Long, code As Long, out As String
    For i = 1 To Len(s)
        code = AscW(Mid$(s, i, 1)) And &HFFFF&
        If code < 32 Or code > 126 Or code = 34 Or code = 92 Then
            out = out & "\u" & Right$("000" & Hex$(code), 4)
        Else
            out = out & Mid$(s, i, 1)
        End If
    Next i
    JsonText = """" & out & """"
End Function

Private Function SelectionJson() As String
    ' The selected rows: (id, unit) pairs on the review sheet, else the sheet's name and row numbers.
    Dim area As Object, r As Long, items As String, sheet As Object
    Set sheet = ActiveSheet
    For Each area In Selection.Areas
        For r = area.Row To area.Row + area.Rows.Count - 1
            If sheet.Name = "销号审核" Then
                If r > 2 And Trim$(CStr(sheet.Cells(r, 1).Value)) <> "" Then
                    items = items & ",[" & JsonText(Trim$(CStr(sheet.Cells(r, 1).Value))) & "," & JsonText(Trim$(CStr(sheet.Cells(r, 2).Value))) & "]"
                End If
            Else
                items = items & "," & CStr(r)
            End If
        Next r
    Next area
    If sheet.Name = "销号审核" Then
        SelectionJson = """targets"":[" & Mid$(items, 2) & "]"
    Else
        SelectionJson = """sheet"":" & JsonText(sheet.Name) & ",""rows"":[" & Mid$(items, 2) & "]"
    End If
End Function

Private Function ViaService(ByVal operation As String, ByVal title As String, ByVal text As String, _
                            ByVal conclusion As String, ByRef answer As String, ByRef service As String) As Boolean
    ' True when the service answered (answer: its words, "!" first when it refused); False when there is
    ' no service to ask, service then saying why for the fallback's message.
    Dim root As String, sep As String, url As String, token As String, body As String, status As Long
    Dim book As Object, path As String
    sep = Application.PathSeparator
    root = ServiceRoot(ActiveWorkbook.Path)
    If root = "" Then Exit Function
    url = "http://127.0.0.1:" & PortOf(ReadText(root & sep & STATE_FILE))
    token = ReadText(root & sep & TOKEN_FILE)
    On Error GoTo Unreachable
    Http "GET", url & API_PATH & "status", token, "", status
    On Error GoTo 0
    If status <> 200 Then
        service = "整改台账服务（" & url & "）拒绝了请求（" & status & "）。"
        Exit Function
    End If
    body = "{"
    If conclusion <> "" Then
        On Error GoTo NoSelection
        body = body & """conclusion"":" & JsonText(conclusion) & ",""opinion"":" & JsonText(text) & "," & SelectionJson()
        On Error GoTo 0
    End If
    body = body & "}"
    Set book = ActiveWorkbook
    book.Save
    path = book.FullName
    book.Close False
    On Error GoTo Lost
    answer = Http("POST", url & API_PATH & operation, token, body, status)
    On Error GoTo 0
    If status <> 200 Then answer = "!" & answer
    Workbooks.Open path
    ViaService = True
    Exit Function
Unreachable:
    service = "整改台账服务没有应答（" & url & "），改用 xlwings 启动 Python。" & vbLf
    Exit Function
NoSelection:
    answer = "!请先在“销号审核”表（或“整改台账”表）中选中要审核的措施所在的行，再点按钮。"
    ViaService = True
    Exit Function
Lost:
    answer = "!整改台账服务在运行中断开（" & Err.Description & "）。请查看工作文件夹 logs 中的 toolkit.log，确认服务仍在运行（python -m toolkit status -c 工作文件夹）后再点按钮。"
    Workbooks.Open path
    ViaService = True
End Function

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
    Press "consolidate_button", "汇总报送", "consolidate"
End Sub

Public Sub ZG_Refresh(control As IRibbonControl)
    Press "refresh_button", "刷新统计", "refresh"
End Sub

Public Sub ZG_Highlight(control As IRibbonControl)
    Press "highlight_button", "标记逾期", "highlight"
End Sub

Public Sub ZG_Notices(control As IRibbonControl)
    Press "notices_button", "生成通报", "notices"
End Sub

Public Sub ZG_Distribute(control As IRibbonControl)
    Press "distribute_button", "分发模板", "distribute"
End Sub

Public Sub ZG_Remind(control As IRibbonControl)
    Press "remind_button", "催报", "remind"
End Sub

Public Sub ZG_Agree(control As IRibbonControl)
    Press "agree_button", "同意销号", "review", "", "agree"
End Sub

Public Sub ZG_Return(control As IRibbonControl)
    ' The opinion is asked here; Python refuses an empty one and does everything else.
    Press "return_button", "退回补充", "review", InputBox("请写明退回补充的审核意见（单位需补充的材料）：", "退回补充"), "return"
End Sub
