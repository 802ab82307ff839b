using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;

namespace SdBlazor.Engine.Tests.Checkpoints;

/// <summary>
/// The Python tooling's checkpoints (<c>Fixtures/checkpoints/*.safetensors</c>, fp16, written from the torch modules'
/// weights in the released layout) imported here give, per component, the outputs the torch modules give for the same
/// inputs (<c>reference/*.json</c>) within fp32 tolerance; and they generate through the engine.
/// </summary>
public sealed class ReferenceOutputTests : IDisposable
{
    private readonly CheckpointHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", name);

    [Theory]
    [InlineData("sd15-tiny", "PNDMScheduler", "epsilon")]
    [InlineData("sd21v-tiny", "DDIMScheduler", "v_prediction")]
    [InlineData("sd15-inpainting-tiny", "PNDMScheduler", "epsilon")]
    public async Task Imported_components_match_the_torch_reference_and_generate(string name, string scheduler, string prediction)
    {
        File.Copy(Fixture(name + ".safetensors"), Path.Combine(_h.ModelsPath, name + ".safetensors"));
        // The released 768-v file says nothing; A1111 users put its config beside it, as done here.
        if (name.StartsWith("sd21v", StringComparison.Ordinal))
            File.WriteAllText(Path.Combine(_h.ModelsPath, name + ".yaml"), "model:\n  params:\n    parameterization: \"v\"\n");
        _h.Engine.Engine.RefreshModels();
        Assert.Null(_h.Engine.Engine.ListModels().Single(m => m.Name == name).Error);

        using (var result = await _h.Engine.Engine.GenerateAsync(new GenerationRequest
               {
                   Prompt = "a photo", NegativePrompt = "", Seed = 1, Steps = 2, CfgScale = 5, Model = name, Sampler = "Euler",
               }, null, CancellationToken.None))
        {
            Assert.Single(result.Images);
            var config = JsonNode.Parse(result.Parameters.SchedulerConfigJson)!;
            Assert.Equal(scheduler, config["_class_name"]!.GetValue<string>());
            Assert.Equal(prediction, config["prediction_type"]?.GetValue<string>() ?? "epsilon");
        }

        CompareAll(name, Assert.Single(Directory.GetDirectories(_h.CachePath, name + "-*")));
    }

    [Fact]
    public void Sdxl_is_listed_as_usable_and_its_five_components_convert_to_the_torch_reference()
    {
        var path = Path.Combine(_h.ModelsPath, "sdxl-tiny.safetensors");
        File.Copy(Fixture("sdxl-tiny.safetensors"), path);
        _h.Engine.Engine.RefreshModels();
        Assert.Null(_h.Engine.Engine.ListModels().Single(m => m.Name == "sdxl-tiny").Error);

        var library = _h.Engine.Registry.Checkpoints;
        var entry = library.Describe(path);
        Assert.Null(entry.Error);
        var folder = library.Prepare(entry, null, CancellationToken.None);
        Assert.Equal("sdxl-tiny", folder.Name);
        Assert.Equal(0.13025f, folder.ScalingFactor);
        Assert.Contains("EulerDiscreteScheduler", folder.SchedulerConfigJson);
        var pad = JsonNode.Parse(File.ReadAllText(Path.Combine(folder.Path, "tokenizer_2", "special_tokens_map.json")))!["pad_token"]!.GetValue<string>();
        Assert.Equal("!", pad);
        CompareAll("sdxl-tiny", folder.Path);
    }

    private static void CompareAll(string name, string folder)
    {
        var reference = JsonNode.Parse(File.ReadAllText(Fixture(Path.Combine("reference", name + ".json"))))!;
        foreach (var (component, inputs) in reference["inputs"]!.AsObject())
        {
            using var session = new InferenceSession(Path.Combine(folder, component, "model.onnx"));
            var values = inputs!.AsObject().Select(i => Input(i.Key, i.Value!)).ToList();
            using var results = session.Run(values);
            foreach (var (output, expected) in reference["outputs"]![component]!.AsObject())
            {
                var actual = results.Single(r => r.Name == output).AsEnumerable<float>().ToArray();
                Compare($"{name} {component}.{output}", expected!, actual);
            }
        }
    }

    private static NamedOnnxValue Input(string name, JsonNode node)
    {
        var shape = node["shape"]!.AsArray().Select(d => d!.GetValue<int>()).ToArray();
        var data = node["data"]!.AsArray();
        return node["dtype"]!.GetValue<string>() switch
        {
            "int32" => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<int>(data.Select(d => d!.GetValue<int>()).ToArray(), shape)),
            "int64" => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(data.Select(d => d!.GetValue<long>()).ToArray(), shape)),
            _ => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(data.Select(d => d!.GetValue<float>()).ToArray(), shape)),
        };
    }

    private static void Compare(string what, JsonNode expected, float[] actual)
    {
        const double tolerance = 1e-4;
        Assert.Equal(expected["shape"]!.AsArray().Aggregate(1L, (a, d) => a * d!.GetValue<long>()), actual.LongLength);
        var values = (expected["data"] ?? expected["first"])!.AsArray().Select(d => d!.GetValue<double>()).ToArray();
        var worst = values.Select((v, i) => Math.Abs(v - actual[i])).Max();
        Assert.True(worst <= tolerance * Math.Max(1, values.Max(Math.Abs)), $"{what}: max |ORT − torch| = {worst:g3}");
        if (expected["mean"] is { } mean)
        {
            var m = actual.Average(v => (double)v);
            Assert.True(Math.Abs(m - mean.GetValue<double>()) <= tolerance, $"{what}: mean {m:g6} vs {mean.GetValue<double>():g6}");
            var abs = actual.Average(v => Math.Abs((double)v));
            Assert.True(Math.Abs(abs - expected["abs_mean"]!.GetValue<double>()) <= tolerance, $"{what}: abs mean {abs:g6} vs {expected["abs_mean"]!.GetValue<double>():g6}");
        }
    }
}
