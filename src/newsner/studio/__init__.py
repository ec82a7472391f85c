"""Label Studio: the local launcher (`server`), the connection (`client`), `push` and `pull`.

Only this package imports `label_studio_sdk`.
"""
