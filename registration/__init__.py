"""Citizen registration: stations, communities and officers, their QR codes and posters,
attributed follows, verified phone binding, guarded relatives and registration statistics."""
