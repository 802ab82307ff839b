using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Tests.TestModels;
using Xunit;

namespace SdBlazor.Engine.Tests.Prompts;

/// <summary>
/// Clip skip on an export whose layer norms are decomposed (opset 14, as diffusers/optimum export text encoders),
/// against torch's own <c>final_layer_norm(hidden_states[-N])</c> (fixture made by Fixtures/clip_skip/make_fixture.py).
/// </summary>
public sealed class ClipSkipGraphTests
{
    private static readonly string Folder = Path.Combine(DefaultModel.FixturesPath, "clip_skip");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Clip_skip_outputs_match_torchs_hidden_states_through_the_final_layer_norm(int clipSkip)
    {
        using var expectedJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "expected.json")));
        var ids = expectedJson.RootElement.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray();
        var expected = expectedJson.RootElement.GetProperty(clipSkip.ToString()).EnumerateArray().Select(v => v.GetSingle()).ToArray();

        var options = Microsoft.Extensions.Options.Options.Create(new EngineOptions { ExecutionProvider = ExecutionProviderKind.Cpu, IntraOpThreads = 1, OptimizedModelCache = false });
        var sessions = new SessionFactory(options, NullLogger<SessionFactory>.Instance);
        var path = Path.Combine(Folder, "text_encoder_opset14.onnx");
        using var session = sessions.Create(path, "text_encoder");
        using var runner = new TextEncoderRunner(session, edited => sessions.CreateEdited(path, "text_encoder", edited));
        using var runOptions = new RunOptions();

        var actual = runner.Encode(ids, runOptions, clipSkip, out var hidden);
        Assert.Equal(32, hidden);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-4);
        if (clipSkip > 1) Assert.Equal(3, runner.Layers);
    }
}
