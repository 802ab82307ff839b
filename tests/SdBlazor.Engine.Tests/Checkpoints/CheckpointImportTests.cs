using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using SdBlazor.Engine.Models.Sources;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;

namespace SdBlazor.Engine.Tests.Checkpoints;

/// <summary>A checkpoint dropped in the models folder: listed, converted on first use, generated with, cached, and every bad file refused by name.</summary>
public sealed class CheckpointImportTests : IDisposable
{
    private readonly CheckpointHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static GenerationRequest Request(string model, int steps = 2) => new()
    {
        Prompt = "a red cat", NegativePrompt = "", Seed = 3, Steps = steps, CfgScale = 7, Model = model, Sampler = "Euler",
    };

    private sealed class Phases : IStepProgressSink
    {
        public List<string> Seen { get; } = [];
        public int Steps { get; private set; }
        public void OnStep(in StepProgress progress) => Steps++;
        public void OnPhase(string phase, int done, int total) { lock (Seen) if (!Seen.Contains(phase)) Seen.Add(phase); }
    }

    private string ConvertedFolder(string name) => Assert.Single(Directory.GetDirectories(_h.CachePath, name + "-*"));

    private static void AssertWeights(string folder, GraphSet set, Dictionary<(string Component, string Initializer), float[]> expected)
    {
        foreach (var (component, manifest) in set.Manifests)
        {
            var bytes = File.ReadAllBytes(Path.Combine(folder, component, "weights.bin"));
            Assert.Equal(manifest.TotalBytes, bytes.Length);
            foreach (var init in manifest.Tensors)
            {
                var actual = MemoryMarshal.Cast<byte, float>(bytes.AsSpan((int)init.Offset, (int)init.Length)).ToArray();
                Assert.True(expected[(component, init.Initializer)].SequenceEqual(actual), $"{component}: {init.Initializer} ({init.Key}, {init.Transform}) differs");
            }
        }
    }

    [Fact]
    public async Task An_sd15_checkpoint_is_listed_converted_on_first_use_and_generates()
    {
        var written = _h.Write("my-sd15", "sd15-tiny", "sd15", new TestCheckpoints.Options(DType: "F16"));
        _h.Engine.Engine.RefreshModels();

        var listed = Assert.Single(_h.Engine.Engine.ListModels(), m => m.Name == "my-sd15");
        Assert.Equal(("my-sd15.safetensors", (string?)null, 64, true), (listed.FileName, listed.Error, listed.NativeWidth, listed.SupportsImg2Img));
        Assert.EndsWith("my-sd15.safetensors", listed.Path);

        var phases = new Phases();
        using (var result = await _h.Engine.Engine.GenerateAsync(Request("my-sd15"), phases, CancellationToken.None))
        {
            var image = Assert.Single(result.Images);
            Assert.Equal((64, 64), (image.Image.Width, image.Image.Height));
            Assert.Equal("my-sd15", result.Parameters.Model);
            // A1111's model hash is the checkpoint file's SHA-256.
            using var stream = File.OpenRead(listed.Path);
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream)), result.Parameters.ModelSha256);
            // runwayml/stable-diffusion-v1-5's scheduler, so sampler names mean what they mean for that repository.
            var scheduler = JsonNode.Parse(result.Parameters.SchedulerConfigJson)!;
            Assert.Equal(("PNDMScheduler", 1, 0.012), (scheduler["_class_name"]!.GetValue<string>(), scheduler["steps_offset"]!.GetValue<int>(), scheduler["beta_end"]!.GetValue<double>()));
        }
        Assert.Contains("Converting unet", phases.Seen);
        Assert.Contains("Converting text_encoder", phases.Seen);
        // The free-space check could read the cache's file system (it logs when it cannot).
        Assert.DoesNotContain(_h.Engine.Logs.Entries, e => e.Message.Contains("Cannot tell the free space"));
        Assert.Equal(2, phases.Steps);

        var folder = ConvertedFolder("my-sd15");
        AssertWeights(folder, _h.Set("sd15-tiny"), TestCheckpoints.ExpectedInitializers(_h.Set("sd15-tiny"), "sd15", written));
        // CLIP ViT-L pads with the end token; the licence travels with the vocabulary.
        Assert.Equal("<|endoftext|>", JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer", "special_tokens_map.json")))!["pad_token"]!.GetValue<string>());
        Assert.True(File.Exists(Path.Combine(folder, "tokenizer", "LICENSE")));

        // Second use: from the cache, no conversion.
        var written1 = File.GetLastWriteTimeUtc(Path.Combine(folder, "unet", "weights.bin"));
        _h.Engine.Engine.Unload();
        var again = new Phases();
        using (await _h.Engine.Engine.GenerateAsync(Request("my-sd15"), again, CancellationToken.None)) { }
        Assert.DoesNotContain("Converting unet", again.Seen);
        Assert.Equal(written1, File.GetLastWriteTimeUtc(Path.Combine(ConvertedFolder("my-sd15"), "unet", "weights.bin")));
    }

    public static TheoryData<string, bool, bool, bool> Variants => new()
    {
        { "F32", true, true, false },
        { "BF16", false, false, true },
        { "F16", true, false, true },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Precision_position_ids_ema_and_ddpm_buffers_do_not_matter(string dtype, bool positionIds, bool buffers, bool ema)
    {
        var options = new TestCheckpoints.Options(DType: dtype, Buffers: buffers, PositionIds: positionIds, Ema: ema, Seed: 5);
        var written = _h.Write("variant", "sd15-tiny", "sd15", options);
        _h.Engine.Engine.RefreshModels();
        await _h.Engine.Engine.PreloadAsync("variant");
        AssertWeights(ConvertedFolder("variant"), _h.Set("sd15-tiny"), TestCheckpoints.ExpectedInitializers(_h.Set("sd15-tiny"), "sd15", written));
    }

    [Fact]
    public async Task A_changed_file_is_converted_again_and_its_old_conversion_removed()
    {
        _h.Write("changing", "sd15-tiny", "sd15", new TestCheckpoints.Options(Seed: 1));
        _h.Engine.Engine.RefreshModels();
        await _h.Engine.Engine.PreloadAsync("changing");
        var first = ConvertedFolder("changing");

        var written = _h.Write("changing", "sd15-tiny", "sd15", new TestCheckpoints.Options(Seed: 2));
        File.SetLastWriteTimeUtc(Path.Combine(_h.ModelsPath, "changing.safetensors"), DateTime.UtcNow.AddMinutes(1));
        var phases = new Phases();
        using (await _h.Engine.Engine.GenerateAsync(Request("changing", steps: 1), phases, CancellationToken.None)) { }
        Assert.Contains("Converting unet", phases.Seen);
        var second = ConvertedFolder("changing");
        Assert.NotEqual(first, second);
        AssertWeights(second, _h.Set("sd15-tiny"), TestCheckpoints.ExpectedInitializers(_h.Set("sd15-tiny"), "sd15", written));
    }

    private static float[] OutputBias(string key, float[] values, float bias) =>
        key == "model.diffusion_model.out.2.bias" ? values.Select(_ => bias).ToArray()
        : key == "model.diffusion_model.out.2.weight" ? new float[values.Length]
        : values;

    public static TheoryData<string, string?, string?, float, string> Sd2Cases => new()
    {
        // A1111's SD 2.x test on the UNet: output − input averaging below −1 means v.
        { "probe-v", null, null, -5f, "v_prediction" },
        { "probe-eps", null, null, 0f, "epsilon" },
        // What the file says wins over the test.
        { "meta-v", "v", null, 0f, "v_prediction" },
        { "yaml-v", null, "model:\n  params:\n    parameterization: \"v\"\n", 0f, "v_prediction" },
        { "yaml-eps", null, "model:\n  params:\n    linear_start: 0.00085\n", -5f, "epsilon" },
    };

    [Theory]
    [MemberData(nameof(Sd2Cases))]
    public async Task Sd2_prediction_type_comes_from_metadata_yaml_or_a1111s_unet_test(string name, string? metadata, string? yaml, float bias, string expected)
    {
        _h.Write(name, "sd21-tiny", "sd21v", new TestCheckpoints.Options { Edit = (k, v) => OutputBias(k, v, bias) },
            metadata is null ? null : new Dictionary<string, string> { ["modelspec.prediction_type"] = metadata });
        if (yaml is not null) File.WriteAllText(Path.Combine(_h.ModelsPath, name + ".yaml"), yaml);
        _h.Engine.Engine.RefreshModels();

        using var result = await _h.Engine.Engine.GenerateAsync(Request(name, steps: 1), null, CancellationToken.None);
        var config = JsonNode.Parse(result.Parameters.SchedulerConfigJson)!;
        Assert.Equal(expected, config["prediction_type"]!.GetValue<string>());
        Assert.Equal(expected == "v_prediction" ? "DDIMScheduler" : "PNDMScheduler", config["_class_name"]!.GetValue<string>());
        // OpenCLIP pads with token 0 ("!").
        var tokenizer = JsonNode.Parse(File.ReadAllText(Path.Combine(ConvertedFolder(name), "tokenizer", "special_tokens_map.json")))!;
        Assert.Equal("!", tokenizer["pad_token"]!.GetValue<string>());
    }

    public static TheoryData<string, Action<string>, string> BadModels => new()
    {
        { "pickled.ckpt", p => File.WriteAllBytes(p, [0x80, 0x02, 0x7d, 0x71]), "pickle file" },
        { "pickled.pt", p => File.WriteAllBytes(p, [0x50, 0x4b, 3, 4]), "convert it to .safetensors" },
        { "truncated.safetensors", p => File.WriteAllBytes(p, [5, 0, 0]), "too short" },
        { "cut.safetensors", p => SafetensorsWriter.WriteRaw(p, """{"model.diffusion_model.out.2.bias":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", new byte[4]), "truncated" },
        { "absurd.safetensors", p => SafetensorsWriter.WriteRaw(p, "{}", new byte[16], 1UL << 60), "header length" },
        { "notjson.safetensors", p => SafetensorsWriter.WriteRaw(p, "<html>nope</html>", []), "not valid JSON" },
        { "overlap.safetensors", p => SafetensorsWriter.WriteRaw(p, """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new byte[12]), "overlap" },
        { "fp8.safetensors", p => SafetensorsWriter.WriteRaw(p, """{"a":{"dtype":"F8_E5M2","shape":[2],"data_offsets":[0,2]}}""", new byte[2]), "does not know" },
        { "lora.safetensors", p => SafetensorsWriter.Write(p, [new TestTensor("lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight", "F32", [2, 2], new float[4])]), "LoRA" },
        { "vae.safetensors", p => SafetensorsWriter.Write(p, [new TestTensor("decoder.conv_in.weight", "F32", [2, 2], new float[4]), new TestTensor("encoder.conv_in.weight", "F32", [2, 2], new float[4])]), "VAE only" },
        { "strange.safetensors", p => SafetensorsWriter.Write(p, [new TestTensor("foo.bar", "F32", [1], new float[1])]), "unknown layout" },
    };

    [Theory]
    [MemberData(nameof(BadModels))]
    public async Task A_bad_file_is_listed_with_an_error_naming_it_and_other_models_keep_working(string file, Action<string> write, string expected)
    {
        write(Path.Combine(_h.ModelsPath, file));
        _h.Engine.Engine.RefreshModels();
        var name = Path.GetFileNameWithoutExtension(file);

        var listed = Assert.Single(_h.Engine.Engine.ListModels(), m => m.Name == name);
        Assert.NotNull(listed.Error);
        Assert.StartsWith($"Checkpoint '{name}': ", listed.Error);
        Assert.Contains(expected, listed.Error, StringComparison.OrdinalIgnoreCase);

        var ex = await Assert.ThrowsAsync<GenerationValidationException>(() => _h.Engine.Engine.GenerateAsync(Request(name), null, CancellationToken.None));
        Assert.Equal(listed.Error, ex.Message);

        using var other = await _h.Engine.Engine.GenerateAsync(Request("tiny", steps: 1), null, CancellationToken.None);
        Assert.Single(other.Images);
    }

    [Fact]
    public void A_pickle_extension_is_refused_even_when_the_bytes_would_load()
    {
        // Listed from its name alone: the file is never read, whatever it holds.
        var tensors = TestCheckpoints.ForGraphSet(_h.Set("sd15-tiny"), "sd15");
        SafetensorsWriter.Write(Path.Combine(_h.ModelsPath, "renamed.ckpt"), tensors);
        _h.Engine.Engine.RefreshModels();
        Assert.Contains("pickle file", Assert.Single(_h.Engine.Engine.ListModels(), m => m.Name == "renamed").Error);
    }

    [Fact]
    public void Inpainting_checkpoints_import_into_their_graph_set_and_pix2pix_or_other_sizes_say_what_they_are()
    {
        var tensors = TestCheckpoints.ForGraphSet(_h.Set("sd15-tiny"), "sd15");
        var conv = tensors.Single(t => t.Name == "model.diffusion_model.input_blocks.0.0.weight");
        TestTensor Channels(TestTensor t, int c) => t with { Shape = [t.Shape[0], c, t.Shape[2], t.Shape[3]], Values = new float[t.Shape[0] * c * 9] };
        SafetensorsWriter.Write(Path.Combine(_h.ModelsPath, "inpaint.safetensors"), tensors.Select(t => t == conv ? Channels(t, 9) : t).ToList());
        SafetensorsWriter.Write(Path.Combine(_h.ModelsPath, "pix2pix.safetensors"), tensors.Select(t => t == conv ? Channels(t, 8) : t).ToList());
        var wider = tensors.Select(t => t.Name == "model.diffusion_model.out.2.bias" ? t with { Shape = [8], Values = new float[8] } : t).ToList();
        SafetensorsWriter.Write(Path.Combine(_h.ModelsPath, "other.safetensors"), wider);
        _h.Engine.Engine.RefreshModels();

        var models = _h.Engine.Engine.ListModels();
        Assert.Null(models.Single(m => m.Name == "inpaint").Error);
        Assert.Equal("sd15-inpainting-tiny", _h.Engine.Registry.Checkpoints.Describe(Path.Combine(_h.ModelsPath, "inpaint.safetensors")).Layout!.GraphSet.Name);
        Assert.Contains("instruct-pix2pix model (its UNet takes 8 input channels)", models.Single(m => m.Name == "pix2pix").Error);
        var other = models.Single(m => m.Name == "other").Error;
        Assert.Contains("SD 1.x checkpoint whose weights fit no shipped graph set", other);
        Assert.Contains("model.diffusion_model.out.2.bias is [8], the graph needs [4]", other);
    }
}
