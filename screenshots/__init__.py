"""Screenshot check: the picture of a chat or SMS a follower sends is read offline and checked.

``images`` validates and decodes the bytes WeChat's ``media/get`` returned (pure), ``layout``
puts recognised text boxes into reading order (pure), ``ocr`` holds the one OCR engine of a
worker process (loaded lazily) and ``verdict`` turns lines and a scam-check result into the
reply. The worker job that ties them together is ``worker/screenshot_jobs.py``.
"""
