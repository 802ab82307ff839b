using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Onnx;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Processing;

namespace SdBlazor.Engine.Previews;

/// <summary>
/// Previews through a model folder's optional <c>taesd_decoder/model.onnx</c> (madebyollin/taesd, diffusers
/// <c>AutoencoderTiny</c> decoder export): raw diffusion latents [1, 4, h, w] in, image [1, 3, 8h, 8w] in [-1, 1] out.
/// Better pictures than the projection for a small model call; the result is shrunk to at most <see cref="MaxSide"/> px.
/// Falls back to <paramref name="fallback"/> if the decoder fails, so a preview can never fail a generation.
/// </summary>
public sealed class TaesdPreviewer(OnnxSession session, ILatentPreviewer fallback, int maxSide = 256) : ILatentPreviewer, IDisposable
{
    private readonly string _inputName = session.InputName("latent_sample", 0);
    private readonly string _outputName = session.OutputName("sample", 0);
    private readonly JpegEncoder _encoder = new() { Quality = 80 };
    private readonly RunOptions _runOptions = new();

    public int MaxSide { get; } = maxSide;

    public byte[] RenderJpeg(ReadOnlySpan<float> latents, int batchItem, int latentHeight, int latentWidth)
    {
        var itemLength = 4 * latentHeight * latentWidth;
        try
        {
            var image = session.RunFloat(_inputName, latents.Slice(batchItem * itemLength, itemLength),
                [1, 4, latentHeight, latentWidth], _outputName, _runOptions, out var shape);
            using var rgb = ImageTensors.ToImage(image, (int)shape[2], (int)shape[3]);
            var scale = Math.Min(1.0, (double)MaxSide / Math.Max(rgb.Width, rgb.Height));
            if (scale < 1) rgb.Mutate(x => x.Resize((int)(rgb.Width * scale), (int)(rgb.Height * scale)));
            using var stream = new MemoryStream();
            rgb.SaveAsJpeg(stream, _encoder);
            return stream.ToArray();
        }
        catch (OnnxRuntimeException)
        {
            return fallback.RenderJpeg(latents, batchItem, latentHeight, latentWidth);
        }
    }

    public void Dispose() => _runOptions.Dispose();
}
