"""The Excel buttons' entry points by name (toolkit.excel defines them, the add-in's macros call them), one
floor below both so that building the add-in needs no Excel layer."""

BUTTONS = ("consolidate_button", "refresh_button", "highlight_button", "notices_button", "distribute_button",
           "remind_button", "agree_button", "return_button")
