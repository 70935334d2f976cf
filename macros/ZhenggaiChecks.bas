Attribute VB_Name = "ZhenggaiChecks"

' Checks made before Python starts, and Zh(): the build (toolkit/addin.py) writes Chinese
' literals as \uXXXX escapes, because VBA keeps its source in the machine's ANSI code page.
Option Explicit
Option Private Module

Public Function Zh(ByVal s As String) As String
    Dim i As Long, code As Long, out As String
    i = 1
    Do While i <= Len(s)
        If Mid$(s, i, 2) = "\u" And i + 5 <= Len(s) Then
            code = CLng("&H" & Mid$(s, i + 2, 4))
            If code < 0 Then code = code + 65536
            out = out & ChrW(code)
            i = i + 6
        Else
            out = out & Mid$(s, i, 1)
            i = i + 1
        End If
    Loop
    Zh = out
End Function

Private Function FileThere(ByVal path As String) As Boolean
    On Error Resume Next
    FileThere = (Dir(path) <> "")
End Function

Private Function OnPath(ByVal exe As String) As Boolean
    Dim folder As Variant
    For Each folder In Split(Environ("PATH"), ";")
        If folder <> "" Then
            If FileThere(folder & "\" & exe) Then
                OnPath = True
                Exit Function
            End If
        End If
    Next
End Function

Public Function Preflight() As String
    Dim pyexe As String, onMac As Boolean, xl As Object
    If ActiveWorkbook Is Nothing Then
        Preflight = "没有打开的工作簿。请先打开台账（工作文件夹 master 中的 整改台账.xlsx），再点按钮。"
        Exit Function
    End If
    If ActiveWorkbook.Path = "" Then
        Preflight = "当前工作簿尚未保存。请先把台账保存到工作文件夹的 master 文件夹中（其上一级有 config.toml），再点按钮。"
        Exit Function
    End If
    onMac = InStr(Application.OperatingSystem, "Mac") > 0
    Set xl = Application
    On Error Resume Next
    If onMac Then
        pyexe = xl.Run("xlwings.xlam!GetConfig", "INTERPRETER_MAC", "")
    Else
        pyexe = xl.Run("xlwings.xlam!GetConfig", "INTERPRETER_WIN", "")
    End If
    If Err.Number <> 0 Then
        Preflight = "没有找到 xlwings 加载项。请运行 xlwings addin install 后重开 Excel，或改用工作文件夹中的 .cmd 快捷方式。"
        Exit Function
    End If
    If pyexe = "" Then pyexe = xl.Run("xlwings.xlam!GetConfig", "INTERPRETER", "python")
    On Error GoTo 0
    If pyexe = "python" Or pyexe = "pythonw" Then
        If Not onMac And Not OnPath(pyexe & ".exe") Then
            Preflight = "找不到 Python：PATH 中没有 " & pyexe & ".exe。请安装 Python（勾选 Add to PATH），或在 xlwings 选项卡中填写 Interpreter。"
        End If
    ElseIf Not FileThere(pyexe) Then
        Preflight = "找不到 Python 解释器：" & pyexe & "。请在 Excel 的 xlwings 选项卡中改正 Interpreter 的路径。"
    End If
End Function

