using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SdBlazor.Engine.Onnx;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SdBlazor.Engine.Upscaling;

/// <summary>
/// A super-resolution model (ESRGAN / Real-ESRGAN exported to ONNX): input [1, 3, H, W] RGB in 0..1, output
/// [1, 3, s·H, s·W]. The factor s comes from a probe run on a small tile. Runs tiled (<see cref="TiledUpscale"/>),
/// repeating like A1111 (at most 3 passes) until the target is reached, then resizes to the exact size with Lanczos.
/// </summary>
public sealed class OnnxUpscaler : IImageUpscaler, IDisposable
{
    /// <summary>Input tile side in pixels: a 4× ESRGAN tile of 192² stays under ~1 GB of activations on CPU.</summary>
    public const int DefaultTile = 192;

    public const int DefaultOverlap = 16;

    // A side that pixel-unshuffle variants (RealESRGAN x2 packs 2×2, some 4×4) accept.
    private const int ProbeSide = 32;

    private readonly OnnxSession _session;
    private readonly string _input;
    private readonly string _output;
    private readonly object _runLock = new();

    /// <exception cref="InvalidDataException">The graph is not an image-to-image upscaler of the expected shapes.</exception>
    public OnnxUpscaler(string name, OnnxSession session, int tile = DefaultTile, int overlap = DefaultOverlap)
    {
        Name = name;
        _session = session;
        Tile = tile;
        Overlap = overlap;
        if (session.InputNames.Count != 1 || session.OutputNames.Count < 1)
            throw Bad($"it has {session.InputNames.Count} inputs and {session.OutputNames.Count} outputs; an upscaler has one image input and one image output");
        _input = session.InputNames[0];
        _output = session.OutputNames[0];
        CheckShape("input", session.InputMetadata(_input).Dimensions);
        CheckShape("output", session.OutputMetadata(_output).Dimensions);
        session.RequireType(_input, TensorElementType.Float, TensorElementType.Float16);

        float[] probe;
        long[] shape;
        try
        {
            using var runOptions = new RunOptions();
            probe = session.RunFloat(_input, new float[3 * ProbeSide * ProbeSide], [1, 3, ProbeSide, ProbeSide], _output, runOptions, out shape);
        }
        catch (OnnxRuntimeException ex)
        {
            throw Bad($"a probe run on a {ProbeSide}×{ProbeSide} image failed ({ex.Message.Split('\n')[0]})");
        }
        if (shape is not [1, 3, var h, var w] || h != w || h % ProbeSide != 0 || h / ProbeSide is < 1 or > 8 || probe.Length != 3 * h * w)
            throw Bad($"a {ProbeSide}×{ProbeSide} image came out as [{string.Join(", ", shape)}]; expected [1, 3, s·{ProbeSide}, s·{ProbeSide}] with s from 1 to 8");
        Scale = (int)(h / ProbeSide);
    }

    public string Name { get; }

    public int? Scale { get; }

    public int Tile { get; }

    public int Overlap { get; }

    public Image<Rgb24> Upscale(Image<Rgb24> source, int width, int height, CancellationToken cancellationToken)
    {
        var current = source.Clone();
        try
        {
            for (var pass = 0; pass < 3 && (current.Width < width || current.Height < height) && Scale > 1; pass++)
            {
                var next = TiledUpscale.Run(current, Scale!.Value, Tile, Overlap, RunTile, cancellationToken);
                current.Dispose();
                current = next;
            }
            if (current.Width != width || current.Height != height) current.Mutate(x => x.Resize(width, height, KnownResamplers.Lanczos3));
            return current;
        }
        catch
        {
            current.Dispose();
            throw;
        }
    }

    private float[] RunTile(float[] input, int height, int width, CancellationToken cancellationToken)
    {
        using var runOptions = new RunOptions();
        using var abort = cancellationToken.Register(() => runOptions.Terminate = true);
        try
        {
            // One ONNX Runtime session is safe to run concurrently, but tiles of two requests would double the memory peak.
            lock (_runLock) return _session.RunFloat(_input, input, [1, 3, height, width], _output, runOptions, out _);
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The upscale was cancelled.", cancellationToken);
        }
    }

    private void CheckShape(string what, int[] dims)
    {
        // -1 is a symbolic dimension: allowed everywhere but must be 1 / 3 where fixed.
        if (dims.Length != 4) throw Bad($"its {what} has rank {dims.Length}; expected [1, 3, height, width]");
        if (dims[1] is not (3 or -1)) throw Bad($"its {what} has {dims[1]} channels; expected 3 (RGB)");
        if (dims[0] is not (1 or -1)) throw Bad($"its {what} has batch {dims[0]}; expected 1");
    }

    private InvalidDataException Bad(string why) =>
        new($"Upscaler '{Name}' ({_session.ModelPath}) cannot be used: {why}.");

    public void Dispose() => _session.Dispose();
}
