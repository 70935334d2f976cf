Attribute VB_Name = "ZhenggaiButtons"

' Ribbon buttons of the ZhengGai (rectification ledger) add-in.
' Each sub only hands over to Python through the xlwings add-in's RunPython;
' all logic lives in the Python package (toolkit.excel). Keep this file ASCII.
Option Explicit

Private Sub Py(ByVal command As String)
    Application.Run "xlwings.xlam!RunPython", command
End Sub

Public Sub ZG_Consolidate(control As IRibbonControl)
    Py "import toolkit.excel as x; x.consolidate_button()"
End Sub

Public Sub ZG_Refresh(control As IRibbonControl)
    Py "import toolkit.excel as x; x.refresh_button()"
End Sub

Public Sub ZG_Highlight(control As IRibbonControl)
    Py "import toolkit.excel as x; x.highlight_button()"
End Sub

Public Sub ZG_Notices(control As IRibbonControl)
    Py "import toolkit.excel as x; x.notices_button()"
End Sub

Public Sub ZG_Distribute(control As IRibbonControl)
    Py "import toolkit.excel as x; x.distribute_button()"
End Sub
