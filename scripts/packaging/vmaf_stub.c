/* Stands in for libvmaf in the desktop build (console.spec): the console never measures video
 * quality, but PyAV's libavfilter links libvmaf (1.5 MB) for its libvmaf filter. Every
 * function libavfilter imports fails (-EINVAL), so that filter's initialisation fails cleanly. */
#define FAIL(name) int name(void) { return -22; }
FAIL(vmaf_init)
FAIL(vmaf_close)
FAIL(vmaf_use_feature)
FAIL(vmaf_use_features_from_model)
FAIL(vmaf_feature_dictionary_set)
FAIL(vmaf_model_load)
FAIL(vmaf_model_load_from_path)
FAIL(vmaf_model_destroy)
FAIL(vmaf_model_feature_overload)
FAIL(vmaf_picture_alloc)
FAIL(vmaf_picture_unref)
FAIL(vmaf_read_pictures)
FAIL(vmaf_score_pooled)
FAIL(vmaf_write_output)
