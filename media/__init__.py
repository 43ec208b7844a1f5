"""media package: the console's media engine (aiortc, PyAV, OpenCV; no Qt).

Engine (media.engine.MediaEngine; types in media.api)
    engine = MediaEngine(listener, camera="auto", microphone="auto", audio_channels=1)
    engine.start()                                   # own thread "media-engine" + asyncio loop
    engine.start_call(desk_url, access_token, session_id, ice_servers=[]) -> Future[None]
    engine.request_still("document_front", timeout=15) -> Future[media.stills.Still]
    engine.send_instruction("raise_right_hand") -> Future[None]
    engine.set_mic_muted(bool); engine.set_camera_enabled(bool)
    engine.hang_up() -> Future[None]
    engine.stop(timeout=10)                          # closes everything, joins the thread

    Listener (media.api.EngineListener, called on the engine thread -> re-emit as Qt signals):
    on_call_state(CallState), on_quality(QualityReport), on_message(dict),
    on_remote_frame(), on_error(EngineErrorCode).

Rendering the applicant's video in the UI
    On on_remote_frame (or a ~30 Hz timer) call engine.latest_remote_frame() -> RemoteFrame |
    None. `rf.frame` is an av.VideoFrame in yuv420p: copy rf.frame.planes[0..2] (line sizes
    rf.frame.planes[i].line_size) into a mapped QVideoFrame of format YUV420P and hand it to
    QVideoWidget.videoSink().setVideoFrame(). Skip when rf.seq has not changed. Never keep the
    frame for later: the slot is overwritten by the next one. rf.latency_now_ms() gives the
    glass-to-glass latency where the frame is handed to the screen (synthetic applicant only).

Synthetic applicant (DEMO/TEST PEER): python -m demo.applicant --desk URL --join-token TOKEN
"""
