// FableModel: the CS336 Transformer LM built on FableTensor: modules, configuration
// and ablations, safetensors weights, resource accounting and generation.
import FableTensor
