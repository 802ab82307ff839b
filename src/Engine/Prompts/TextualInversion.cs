using SdBlazor.Engine.Models.Sources;

namespace SdBlazor.Engine.Prompts;

/// <summary>A textual-inversion file cannot be used; the message names the file and says why.</summary>
public sealed class EmbeddingException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A textual-inversion embedding (A1111 <c>modules/textual_inversion</c>): <see cref="Vectors"/> token vectors per text
/// encoder. <see cref="Encoders"/> holds one entry ("" ) for SD 1.x/2.x files, or "clip_l" and "clip_g" for SDXL files.
/// </summary>
/// <param name="Name">The file name without extension: what a prompt writes to use it (A1111's rule for safetensors files).</param>
/// <param name="Encoders">Per encoder key: [Vectors × width] row-major, all finite.</param>
public sealed record TextualInversion(string Name, string Path, int Vectors, IReadOnlyDictionary<string, (int Width, float[] Values)> Encoders,
    int? Step, string? SdCheckpoint, string? SdCheckpointName)
{
    /// <summary>A1111 puts at most one chunk's worth (75) of vectors in a chunk; more would overflow the 77-token window.</summary>
    public const int MaxVectors = 75;

    /// <summary>Wider than any CLIP/OpenCLIP token embedding (bigG: 1280).</summary>
    public const int MaxWidth = 4096;

    public const string ClipL = "clip_l", ClipG = "clip_g";

    /// <summary>A1111's <c>shape</c>: the width, clip_l + clip_g for SDXL files.</summary>
    public int Shape => Encoders.Values.Sum(e => e.Width);

    public bool IsSdxl => Encoders.ContainsKey(ClipG);

    /// <summary>The vectors for a text encoder of <paramref name="width"/>: SD files by their one width, SDXL files by clip_l (768) / clip_g (1280).</summary>
    public float[]? VectorsFor(string encoderKey, int width) =>
        Encoders.TryGetValue(encoderKey, out var e) && e.Width == width ? e.Values : null;

    /// <summary>
    /// Reads an A1111-format <c>.safetensors</c> embedding: one tensor (<c>emb_params</c>, <c>string_to_param.*</c>, a
    /// diffusers concept's <c>&lt;token&gt;</c>; [vectors, width] or a single [width] vector) or SDXL's
    /// <c>clip_l</c> + <c>clip_g</c>. Sizes are checked against the header before anything is read; non-finite values
    /// are refused (they would turn every image using the embedding into NaN).
    /// </summary>
    /// <exception cref="EmbeddingException">Not a readable embedding; the message says why.</exception>
    public static TextualInversion Read(string path)
    {
        var name = System.IO.Path.GetFileNameWithoutExtension(path);
        SafetensorsFile file;
        try
        {
            file = SafetensorsFile.Open(path, name);
        }
        catch (CheckpointException ex)
        {
            throw new EmbeddingException($"Embedding '{name}': {ex.Problem}", ex);
        }
        using (file)
        {
            var tensors = file.Tensors;
            var encoders = new Dictionary<string, (int, float[])>(StringComparer.Ordinal);
            int vectors;
            if (tensors.ContainsKey(ClipL) || tensors.ContainsKey(ClipG))
            {
                if (!tensors.TryGetValue(ClipL, out var l) || !tensors.TryGetValue(ClipG, out var g))
                    throw new EmbeddingException($"Embedding '{name}': an SDXL embedding needs both 'clip_l' and 'clip_g'; found {Keys(file)}.");
                var (vl, wl) = Dimensions(name, l);
                var (vg, wg) = Dimensions(name, g);
                if (vl != vg) throw new EmbeddingException($"Embedding '{name}': clip_l has {vl} vectors but clip_g has {vg}.");
                vectors = vl;
                encoders[ClipL] = (wl, Values(file, l, name));
                encoders[ClipG] = (wg, Values(file, g, name));
            }
            else
            {
                if (tensors.Count != 1)
                    throw new EmbeddingException($"Embedding '{name}': {tensors.Count} tensors ({Keys(file)}); a textual-inversion file holds one (emb_params) or clip_l + clip_g. Is this a LoRA or a checkpoint?");
                var only = tensors.Values.First();
                var (v, w) = Dimensions(name, only);
                vectors = v;
                encoders[""] = (w, Values(file, only, name));
            }
            var metadata = file.Metadata;
            int? step = metadata.TryGetValue("step", out var s) && int.TryParse(s, out var parsed) ? parsed : null;
            return new TextualInversion(name, path, vectors, encoders, step,
                metadata.GetValueOrDefault("sd_checkpoint"), metadata.GetValueOrDefault("sd_checkpoint_name"));
        }
    }

    private static string Keys(SafetensorsFile file) => string.Join(", ", file.Tensors.Keys.Take(5).Select(k => $"'{(k.Length > 60 ? k[..60] + "…" : k)}'")) + (file.Tensors.Count > 5 ? ", …" : "");

    private static (int Vectors, int Width) Dimensions(string name, SafetensorsTensor tensor)
    {
        var shape = tensor.Shape;
        if (tensor.DType is not (SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F64))
            throw new EmbeddingException($"Embedding '{name}': tensor '{tensor.Name}' is {tensor.DType.Name()}, not floating point.");
        var (vectors, width) = shape.Length switch
        {
            1 => (1L, shape[0]),
            2 => (shape[0], shape[1]),
            _ => throw new EmbeddingException($"Embedding '{name}': tensor '{tensor.Name}' has shape {tensor.ShapeText}; expected [vectors, width]."),
        };
        if (vectors < 1 || vectors > MaxVectors)
            throw new EmbeddingException($"Embedding '{name}': {vectors} vectors; between 1 and {MaxVectors} fit in a 75-token chunk.");
        if (width < 1 || width > MaxWidth)
            throw new EmbeddingException($"Embedding '{name}': width {width}; a text encoder's token width is between 1 and {MaxWidth}.");
        return ((int)vectors, (int)width);
    }

    private static float[] Values(SafetensorsFile file, SafetensorsTensor tensor, string name)
    {
        var values = new float[tensor.ElementCount];
        file.ReadFloat32(tensor, 0, values);
        if (!Array.TrueForAll(values, float.IsFinite))
            throw new EmbeddingException($"Embedding '{name}': tensor '{tensor.Name}' holds NaN or infinite values (a diverged training?).");
        return values;
    }
}
