using Microsoft.ML.OnnxRuntime;

namespace SdBlazor.Engine.Onnx;

/// <summary>VAE decoder: <c>latent_sample</c> [1, 4, h, w] (already divided by the scaling factor) → <c>sample</c> [1, 3, 8h, 8w] in [-1, 1].</summary>
public sealed class VaeDecoderRunner(OnnxSession session)
{
    private readonly string _inputName = session.InputName("latent_sample", 0);
    private readonly string _outputName = session.OutputName("sample", 0);

    public OnnxSession Session => session;

    public float[] Decode(ReadOnlySpan<float> latents, int channels, int latentHeight, int latentWidth, RunOptions runOptions, out long[] imageShape) =>
        session.RunFloat(_inputName, latents, [1, channels, latentHeight, latentWidth], _outputName, runOptions, out imageShape);
}

/// <summary>
/// VAE encoder: <c>sample</c> [1, 3, H, W] in [-1, 1] → either <c>latent_sample</c> [1, 4, H/8, W/8] (already sampled by
/// the export) or <c>latent_parameters</c> [1, 8, H/8, W/8] (mean and log-variance, which the pipeline samples itself).
/// </summary>
public sealed class VaeEncoderRunner(OnnxSession session)
{
    private readonly string _inputName = session.InputName("sample", 0);
    private readonly string _outputName = session.OutputNames.Contains("latent_parameters") ? "latent_parameters" : session.OutputName("latent_sample", 0);

    public OnnxSession Session => session;

    /// <summary><c>true</c> when the output holds distribution parameters (mean ‖ logvar on the channel axis).</summary>
    public bool OutputsParameters => _outputName == "latent_parameters";

    public float[] Encode(ReadOnlySpan<float> image, int height, int width, RunOptions runOptions, out long[] latentShape) =>
        session.RunFloat(_inputName, image, [1, 3, height, width], _outputName, runOptions, out latentShape);
}
