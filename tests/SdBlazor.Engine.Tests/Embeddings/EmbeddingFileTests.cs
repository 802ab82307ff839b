using SdBlazor.Engine.Prompts;
using SdBlazor.Engine.Tests.Checkpoints;
using Xunit;

namespace SdBlazor.Engine.Tests.Embeddings;

/// <summary>
/// The embeddings folder as A1111 users fill it: A1111's <c>emb_params</c>, <c>string_to_param.*</c>, a diffusers
/// concept's single key, SDXL's <c>clip_l</c>/<c>clip_g</c>, pickles (never opened) and hostile files (every one a
/// clear problem in the listing, nothing thrown).
/// </summary>
public sealed class EmbeddingFileTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "sdblazor-embedding-files", Guid.NewGuid().ToString("N"));

    public EmbeddingFileTests() => Directory.CreateDirectory(_folder);

    private static void WriteSafetensors(string path, IEnumerable<(string Name, long[] Shape, float[] Values)> tensors, Dictionary<string, string>? metadata = null) =>
        SafetensorsWriter.Write(path, tensors.Select(t => new TestTensor(t.Name, "F32", t.Shape, t.Values)), metadata);

    private static void WriteRaw(string path, string header, byte[] data) => SafetensorsWriter.WriteRaw(path, header, data);

    private string PathOf(string file) => Path.Combine(_folder, file);

    private static float[] Values(int count, float start = 0.25f) => Enumerable.Range(0, count).Select(i => start + i / 8f).ToArray();

    [Fact]
    public void A1111_layouts_are_read_with_their_shape_and_vectors()
    {
        WriteSafetensors(PathOf("emb.safetensors"), [("emb_params", [2, 8], Values(16))], new() { ["step"] = "3000", ["sd_checkpoint"] = "abc123", ["sd_checkpoint_name"] = "v1-5" });
        WriteSafetensors(PathOf("kohya.safetensors"), [("string_to_param.*", [4, 8], Values(32))]);
        WriteSafetensors(PathOf("concept.safetensors"), [("<cat-toy>", [8], Values(8))]);
        WriteSafetensors(PathOf("xl.safetensors"), [("clip_l", [2, 8], Values(16)), ("clip_g", [2, 12], Values(24, 5))]);
        var (embeddings, problems) = new EmbeddingLibrary(_folder).Scan();
        Assert.Empty(problems);
        var byName = embeddings.ToDictionary(e => e.Name);
        Assert.Equal((2, 8, 3000, "abc123", "v1-5"), (byName["emb"].Vectors, byName["emb"].Shape, byName["emb"].Step, byName["emb"].SdCheckpoint, byName["emb"].SdCheckpointName));
        Assert.Equal(Values(16), byName["emb"].VectorsFor("", 8));
        Assert.Equal((4, 8), (byName["kohya"].Vectors, byName["kohya"].Shape));
        Assert.Equal((1, 8), (byName["concept"].Vectors, byName["concept"].Shape));
        var xl = byName["xl"];
        Assert.Equal((2, 20, true), (xl.Vectors, xl.Shape, xl.IsSdxl));
        Assert.Equal(Values(24, 5), xl.VectorsFor(TextualInversion.ClipG, 12));
        Assert.Null(xl.VectorsFor("", 8)); // an SDXL embedding is not an SD 1.x one, even where clip_l's width matches
    }

    [Fact]
    public void Pickles_are_listed_as_skipped_and_never_opened()
    {
        // Not even a valid pickle: opening it in any way would show in the message; it is judged by its extension alone.
        File.WriteAllText(PathOf("old.pt"), "not a pickle at all");
        File.WriteAllText(PathOf("older.bin"), "");
        var (embeddings, problems) = new EmbeddingLibrary(_folder).Scan();
        Assert.Empty(embeddings);
        Assert.Contains("never unpickles", problems["old"]);
        Assert.Contains("never unpickles", problems["older"]);
    }

    [Fact]
    public void Hostile_files_are_clear_problems()
    {
        WriteRaw(PathOf("huge-shape.safetensors"), """{"emb_params":{"dtype":"F32","shape":[1000000000,1000000000],"data_offsets":[0,64]}}""", new byte[64]);
        WriteRaw(PathOf("truncated.safetensors"), """{"emb_params":{"dtype":"F32","shape":[4,8],"data_offsets":[0,128]}}""", new byte[40]);
        File.WriteAllBytes(PathOf("short.safetensors"), [1, 2, 3]);
        File.WriteAllBytes(PathOf("length-lie.safetensors"), [.. BitConverter.GetBytes(ulong.MaxValue), .. "{}"u8.ToArray()]);
        WriteRaw(PathOf("not-json.safetensors"), "{\"emb_params\": [", []);
        WriteSafetensors(PathOf("nan.safetensors"), [("emb_params", [2, 4], [1, 2, float.NaN, 4, 5, 6, 7, 8])]);
        WriteSafetensors(PathOf("inf.safetensors"), [("emb_params", [1, 4], [1, float.PositiveInfinity, 3, 4])]);
        WriteSafetensors(PathOf("two.safetensors"), [("a", [1, 4], Values(4)), ("b", [1, 4], Values(4))]);
        WriteSafetensors(PathOf("many-vectors.safetensors"), [("emb_params", [100, 4], Values(400))]);
        WriteSafetensors(PathOf("cube.safetensors"), [("emb_params", [2, 2, 2], Values(8))]);
        WriteSafetensors(PathOf("half-xl.safetensors"), [("clip_g", [1, 4], Values(4))]);
        WriteRaw(PathOf("ints.safetensors"), """{"emb_params":{"dtype":"I32","shape":[1,4],"data_offsets":[0,16]}}""", new byte[16]);
        using (var big = File.Create(PathOf("big.safetensors"))) big.SetLength(EmbeddingLibrary.MaxFileBytes + 1);

        var (embeddings, problems) = new EmbeddingLibrary(_folder).Scan();
        Assert.Empty(embeddings);
        Assert.Contains("needs more bytes", problems["huge-shape"]);
        Assert.Contains("truncated", problems["truncated"]);
        Assert.Contains("too short", problems["short"]);
        Assert.Contains("truncated", problems["length-lie"]);
        Assert.Contains("not valid JSON", problems["not-json"]);
        Assert.Contains("NaN or infinite", problems["nan"]);
        Assert.Contains("NaN or infinite", problems["inf"]);
        Assert.Contains("2 tensors", problems["two"]);
        Assert.Contains("100 vectors", problems["many-vectors"]);
        Assert.Contains("[2, 2, 2]", problems["cube"]);
        Assert.Contains("needs both 'clip_l' and 'clip_g'", problems["half-xl"]);
        Assert.Contains("not floating point", problems["ints"]);
        Assert.Contains("Is this a LoRA or a checkpoint?", problems["big"]);
        Assert.All(problems, p => Assert.StartsWith(p.Key == "big" ? "" : $"Embedding '{p.Key}'", p.Value));
    }

    [Fact]
    public void A_changed_file_is_read_again()
    {
        var path = PathOf("style.safetensors");
        WriteSafetensors(path, [("emb_params", [1, 4], Values(4))]);
        var library = new EmbeddingLibrary(_folder);
        Assert.Equal(1, Assert.Single(library.Scan().Embeddings).Vectors);
        WriteSafetensors(path, [("emb_params", [3, 4], Values(12))]);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        Assert.Equal(3, Assert.Single(library.Scan().Embeddings).Vectors);
        File.Delete(path);
        Assert.Empty(library.Scan().Embeddings);
    }

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
