/** The annotation an InferencePool names its EndpointPickerConfig ConfigMap with (same namespace). */
export const EPP_CONFIG_ANNOTATION = 'infergate.io/endpoint-picker-config';
