"""One module per tab of the Gradio app: its handlers (plain functions) and its layout."""
