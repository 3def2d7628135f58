"""The OCR models come from the installed wheel, never from the network."""

from __future__ import annotations

from screenshots import ocr


def test_the_detection_and_recognition_models_ship_inside_the_installed_package():
    models = ocr._model_dir()  # the path the engine is given

    for name in ("PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx"):
        assert (models / name).stat().st_size > 1_000_000, name
