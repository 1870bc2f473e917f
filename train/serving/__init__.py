"""Serving the model: the embedded OpenAI-compatible server, its engine and backends, the
launcher that runs it as a child process, the client side, and the vLLM command for GPU hosts.

The assistant and synth only talk to an OpenAI-compatible endpoint
(:func:`train.serving.client.make_chat_model`). Run the server with
``python -m train.serving --workspace data``.
"""
