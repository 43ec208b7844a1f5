"""The automated document and face checks (no Qt).

Image loading through the one image gate (``imagefile``), card finding and rectification
(``card``), the MRZ (``mrz``: formats, check digits, field rules; ``mrz_ocr``: our OCR-B
template reader), the codice fiscale (``codice_fiscale``) and the Tessera Sanitaria's Code 39
(``barcode``), faces (``faces``), picture quality and live guidance (``quality``), security
features (``features``), the pipeline over one still (``pipeline``) and the ``inspect`` CLI
(``cli``)."""
