"""The trainers' session player: an evidence package's recording with its timeline of marks.

``source`` opens a package (folder, tar, or sealed file with the reviewer's key) and reads its
marks; ``annotations`` keeps the trainer's notes beside the package (never inside it);
``window`` is the Qt window; ``cli`` is `recognition-console replay`.
"""
