/* Stands in for SVT-AV1 in the desktop build (console.spec): the console never encodes AV1,
 * but PyAV's libavcodec links libSvtAv1Enc (7 MB) for its libsvtav1 encoder. Every function
 * libavcodec imports fails with EB_ErrorInsufficientResources, so opening the encoder fails
 * cleanly ("Error initializing encoder handle") and the handle it closes stays NULL. */
#define FAIL(name) int name(void) { return (int)0x80001000; }
FAIL(svt_av1_enc_init_handle)
FAIL(svt_av1_enc_set_parameter)
FAIL(svt_av1_enc_parse_parameter)
FAIL(svt_av1_enc_init)
FAIL(svt_av1_enc_stream_header)
FAIL(svt_av1_enc_stream_header_release)
FAIL(svt_av1_enc_send_picture)
FAIL(svt_av1_enc_get_packet)
FAIL(svt_av1_enc_release_out_buffer)
FAIL(svt_av1_enc_get_stream_info)
FAIL(svt_av1_enc_deinit)
FAIL(svt_av1_enc_deinit_handle)
FAIL(svt_add_metadata)
void svt_metadata_array_free(void *metadata) { (void)metadata; }
