using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Prompts;
using SdBlazor.Engine.Tests.TestModels;
using Xunit;

namespace SdBlazor.Engine.Tests.Embeddings;

/// <summary>
/// Textual-inversion vectors through the edited text-encoder graph against torch's own forward pass with those vectors
/// written over the token embeddings (Fixtures/embeddings/make_fixture.py: a tiny CLIP exported at opset 14 and an
/// A1111-layout <c>emb_params</c> file).
/// </summary>
public sealed class EmbeddingInjectionTests : IDisposable
{
    private static readonly string Folder = Path.Combine(DefaultModel.FixturesPath, "embeddings");
    private readonly SessionFactory _sessions = new(Microsoft.Extensions.Options.Options.Create(
        new EngineOptions { ExecutionProvider = ExecutionProviderKind.Cpu, IntraOpThreads = 1, OptimizedModelCache = false }), NullLogger<SessionFactory>.Instance);
    private readonly OnnxSession _session;
    private readonly TextEncoderRunner _runner;
    private readonly JsonElement _expected;

    public EmbeddingInjectionTests()
    {
        var path = Path.Combine(Folder, "text_encoder.onnx");
        _session = _sessions.Create(path, "text_encoder");
        _runner = new TextEncoderRunner(_session, edited => _sessions.CreateEdited(path, "text_encoder", edited));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "expected.json")));
        _expected = json.RootElement.Clone();
    }

    private float[] Expected(string key) => _expected.GetProperty(key).EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Injected_vectors_give_torchs_hidden_states(int clipSkip)
    {
        var embedding = TextualInversion.Read(Path.Combine(Folder, "tiny-style.safetensors"));
        Assert.Equal((3, 32, 1500), (embedding.Vectors, embedding.Shape, embedding.Step));
        var ids = _expected.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray();
        var position = _expected.GetProperty("position").GetInt32();
        var fix = new EmbeddingFix(position, embedding.Name, embedding.VectorsFor("", 32)!, embedding.Vectors);
        using var runOptions = new RunOptions();

        var actual = _runner.Encode(ids, runOptions, clipSkip, [fix], out var hidden);
        var expected = Expected(clipSkip.ToString());
        Assert.Equal(32, hidden);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-4);
        Assert.Equal(32, _runner.EmbeddingWidth);
    }

    [Fact]
    public void Without_vectors_the_edited_graph_gives_the_plain_states_and_the_vectors_change_them()
    {
        var ids = _expected.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray();
        using var runOptions = new RunOptions();
        var plain = _runner.Encode(ids, runOptions, 1, null, out _);
        var edited = _runner.Encode(ids, runOptions, 2, null, out _); // clip skip goes through the edited session, mask all false
        var expectedPlain = Expected("plain");
        for (var i = 0; i < expectedPlain.Length; i++) Assert.Equal(expectedPlain[i], plain[i], 1e-4);
        Assert.NotEqual(plain, edited);
        var injected = Expected("1");
        Assert.True(expectedPlain.Zip(injected).Max(p => Math.Abs(p.First - p.Second)) > 0.05, "the fixture's vectors must matter");
    }

    [Fact]
    public void Vectors_of_another_width_are_refused_not_read_out_of_bounds()
    {
        var ids = _expected.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray();
        using var runOptions = new RunOptions();
        var wrong = new EmbeddingFix(2, "wide", new float[3 * 48], 3);
        var ex = Assert.Throws<NotSupportedException>(() => _runner.Encode(ids, runOptions, 1, [wrong], out _));
        Assert.Contains("32 wide", ex.Message);
    }

    public void Dispose()
    {
        _runner.Dispose();
        _session.Dispose();
    }
}
