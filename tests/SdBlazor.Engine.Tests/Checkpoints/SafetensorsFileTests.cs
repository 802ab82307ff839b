using System.Diagnostics;
using SdBlazor.Engine.Models.Sources;

namespace SdBlazor.Engine.Tests.Checkpoints;

public sealed class SafetensorsFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sdblazor-safetensors-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Theory]
    [InlineData("F32")]
    [InlineData("F16")]
    [InlineData("BF16")]
    [InlineData("F64")]
    public void Widens_every_float_dtype_to_fp32(string dtype)
    {
        var values = new[] { 0f, 1f, -2.5f, 0.1f, 65504f, -3.0e-5f, 1234.5678f, float.Epsilon };
        var tensor = new TestTensor("w", dtype, [2, 4], values);
        SafetensorsWriter.Write(PathOf("a.safetensors"), [new TestTensor("ids", "I64", [1, 3], Raw: new byte[24]), tensor],
            new Dictionary<string, string> { ["modelspec.title"] = "test" });

        using var file = SafetensorsFile.Open(PathOf("a.safetensors"), "a");
        var read = new float[8];
        file.ReadFloat32(file.Tensors["w"], 0, read);
        Assert.Equal(tensor.Stored(), read);
        Assert.Equal("test", file.Metadata["modelspec.title"]);
        Assert.Equal([1L, 3L], file.Tensors["ids"].Shape);

        var tail = new float[3];
        file.ReadFloat32(file.Tensors["w"], 5, tail);
        Assert.Equal(tensor.Stored()[5..], tail);
    }

    [Fact]
    public void Reads_an_empty_file_with_only_metadata()
    {
        SafetensorsWriter.Write(PathOf("m.safetensors"), [], new Dictionary<string, string> { ["k"] = "v" });
        using var file = SafetensorsFile.Open(PathOf("m.safetensors"), "m");
        Assert.Empty(file.Tensors);
        Assert.Equal("v", file.Metadata["k"]);
    }

    public static TheoryData<string, Action<string>, string> BadFiles => new()
    {
        { "empty", p => File.WriteAllBytes(p, []), "0 bytes, too short" },
        { "truncated in the length field", p => File.WriteAllBytes(p, [1, 2, 3]), "too short" },
        { "header longer than the file", p => SafetensorsWriter.WriteRaw(p, "{}", [], 4096), "only 8 after it" },
        { "absurd header length 2^60", p => SafetensorsWriter.WriteRaw(p, "{}", new byte[64], 1UL << 60), "truncated or not safetensors" },
        { "not JSON", p => SafetensorsWriter.WriteRaw(p, "PK\u0003\u0004 this is a zip", []), "not valid JSON" },
        { "JSON but not an object", p => SafetensorsWriter.WriteRaw(p, "[1,2,3]", []), "not a JSON object" },
        { "unknown dtype", p => SafetensorsWriter.WriteRaw(p, """{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}""", new byte[2]), "dtype 'F8_E4M3'" },
        { "tensor past the end", p => SafetensorsWriter.WriteRaw(p, """{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", new byte[8]), "ends at byte 16" },
        { "overlapping tensors", p => SafetensorsWriter.WriteRaw(p, """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}""", new byte[24]), "overlap" },
        { "size not matching the shape", p => SafetensorsWriter.WriteRaw(p, """{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}""", new byte[16]), "needs 12 bytes" },
        { "huge shape", p => SafetensorsWriter.WriteRaw(p, """{"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,16]}}""", new byte[16]), "needs more bytes" },
        { "negative offsets", p => SafetensorsWriter.WriteRaw(p, """{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}""", new byte[16]), "invalid data_offsets" },
        { "deep JSON", p => SafetensorsWriter.WriteRaw(p, "{\"w\":" + new string('[', 200) + new string(']', 200) + "}", []), "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_bad_file_fails_fast_with_a_message_naming_the_model(string what, Action<string> write, string expected)
    {
        var path = PathOf("bad.safetensors");
        write(path);
        var clock = Stopwatch.StartNew();
        var ex = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path, "my-model"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), what);
        Assert.StartsWith("Checkpoint 'my-model': ", ex.Message);
        Assert.Contains(expected, ex.Message);
    }
}
