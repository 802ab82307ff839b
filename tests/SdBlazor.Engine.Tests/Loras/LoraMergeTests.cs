using System.Diagnostics;
using System.Runtime.InteropServices;
using SdBlazor.Engine.Models.Sources;
using SdBlazor.Engine.Tests.Checkpoints;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using Xunit.Abstractions;

namespace SdBlazor.Engine.Tests.Loras;

/// <summary>
/// A random kohya LoRA (linear, 1×1 conv, LoCon 3×3 conv, text encoder; f32 and f16) merged into the tiny SD 1.5
/// checkpoint fixture through the engine: the merged weights equal W + m·(α/r)·up·down computed here with plain loops,
/// the image changes with the LoRA and not with multiplier 0, and every module that cannot be applied is warned about.
/// </summary>
public sealed class LoraMergeTests(ITestOutputHelper output) : IDisposable
{
    private const int Rank = 4;
    private readonly CheckpointHarness _h = new();
    private readonly Random _random = new(7);

    public void Dispose() => _h.Dispose();

    private static GenerationRequest Request(string prompt) => new()
    {
        Prompt = prompt, NegativePrompt = "", Seed = 3, Steps = 2, CfgScale = 7, Model = "base", Sampler = "Euler",
    };

    private float[] RandomValues(long count, float scale) =>
        Enumerable.Range(0, (int)count).Select(_ => (float)(_random.NextDouble() * 2 - 1) * scale).ToArray();

    private sealed record Module(string Kohya, string Component, string Key, TestTensor Down, TestTensor Up, float? Alpha);

    private Module LoraModule(GraphSet set, string kohya, string component, string key, string dtype = "F32", float? alpha = null, long[]? downShape = null)
    {
        var keyShape = set.Manifests[component].Tensors.Single(t => t.Key == key).KeyShape;
        long[] down = downShape ?? [Rank, .. keyShape.Skip(1)];
        long[] up = keyShape.Length == 4 ? [keyShape[0], Rank, 1, 1] : [keyShape[0], Rank];
        return new Module(kohya, component, key,
            new TestTensor(kohya + ".lora_down.weight", dtype, down, RandomValues(down.Aggregate(1L, (a, d) => a * d), 0.5f)),
            new TestTensor(kohya + ".lora_up.weight", dtype, up, RandomValues(up.Aggregate(1L, (a, d) => a * d), 0.5f)),
            alpha);
    }

    private static void WriteLora(string path, IEnumerable<Module> modules, IEnumerable<TestTensor>? extra = null)
    {
        var tensors = new List<TestTensor>();
        foreach (var m in modules)
        {
            tensors.Add(m.Down);
            tensors.Add(m.Up);
            if (m.Alpha is { } a) tensors.Add(new TestTensor(m.Kohya + ".alpha", "F32", [], [a]));
        }
        tensors.AddRange(extra ?? []);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["ss_network_module"] = "networks.lora" });
    }

    /// <summary>The diffusers [out, rest] weight as stored in a weights.bin, transposed back where the graph keeps it transposed.</summary>
    internal static float[] KeyLayout(string folder, string component, ManifestTensor t)
    {
        using var stream = File.OpenRead(Path.Combine(folder, component, "weights.bin"));
        stream.Position = t.Offset;
        var bytes = new byte[t.Length];
        stream.ReadExactly(bytes);
        var values = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        if (t.Transform != "transpose") return values;
        int rows = (int)t.Shape[0], columns = (int)t.Shape[1];
        var result = new float[values.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++) result[c * rows + r] = values[r * columns + c];
        return result;
    }

    private static byte[] Pixels(SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24> image)
    {
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }

    private async Task<(byte[] Pixels, IReadOnlyList<string> Warnings, TimeSpan Took)> Generate(string prompt)
    {
        var clock = Stopwatch.StartNew();
        using var result = await _h.Engine.Engine.GenerateAsync(Request(prompt), null, CancellationToken.None);
        return (Pixels(Assert.Single(result.Images).Image), result.Parameters.Warnings, clock.Elapsed);
    }

    [Fact]
    public async Task A_random_lora_merges_exactly_changes_the_image_and_is_cached()
    {
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "sd15-tiny.safetensors"), Path.Combine(_h.ModelsPath, "base.safetensors"));
        _h.Engine.Engine.RefreshModels();
        var set = _h.Set("sd15-tiny");
        var modules = new List<Module>
        {
            LoraModule(set, "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q", "unet", "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight", alpha: 2f),
            LoraModule(set, "lora_unet_down_blocks_0_attentions_0_proj_in", "unet", "down_blocks.0.attentions.0.proj_in.weight", "F16"),
            LoraModule(set, "lora_unet_conv_in", "unet", "conv_in.weight", alpha: 1f),
            LoraModule(set, "lora_te_text_model_encoder_layers_0_self_attn_q_proj", "text_encoder", "text_model.encoder.layers.0.self_attn.q_proj.weight", alpha: 8f),
            // LDM-named, as some trainers write: input_blocks.4.1 is down_blocks.1.attentions.0.
            LoraModule(set, "lora_unet_input_blocks_4_1_proj_in", "unet", "down_blocks.1.attentions.0.proj_in.weight", alpha: 3f),
        };
        var misfit = LoraModule(set, "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k", "unet",
            "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_k.weight", downShape: [Rank, 7]);
        var ldm = new Module("lora_unet_input_blocks_99_1_proj_in", "unet", "", new TestTensor("lora_unet_input_blocks_99_1_proj_in.lora_down.weight", "F32", [Rank, 32], RandomValues(Rank * 32, 1)),
            new TestTensor("lora_unet_input_blocks_99_1_proj_in.lora_up.weight", "F32", [32, Rank], RandomValues(Rank * 32, 1)), null);
        var loha = new TestTensor("lora_unet_conv_out.hada_w1_a", "F32", [4, 4], RandomValues(16, 1));
        WriteLora(Path.Combine(_h.ModelsPath, "Lora", "x.safetensors"), [.. modules, misfit, ldm], [loha]);

        var (basePixels, baseWarnings, baseTook) = await Generate("a red cat");
        Assert.Empty(baseWarnings);
        const float te = 0.7f, unet = 1.3f;
        var (loraPixels, warnings, firstSwitch) = await Generate($"a red cat <lora:x:{te}:{unet}>");
        Assert.NotEqual(basePixels, loraPixels);
        Assert.Equal(3, warnings.Count);
        Assert.Contains(warnings, w => w.Contains("shapes that do not fit") && w.Contains("attn1_to_k"));
        Assert.Contains(warnings, w => w.Contains("match no weight") && w.Contains("input_blocks_99_1_proj_in"));
        Assert.Contains(warnings, w => w.Contains("not a form SdBlazor merges") && w.Contains("hada_w1_a"));

        // The merged weights against W + m·(α/r)·up·down in plain loops (double accumulation).
        var converted = Assert.Single(Directory.GetDirectories(_h.CachePath, "base-*"));
        var variant = Assert.Single(Directory.GetDirectories(Path.Combine(_h.CachePath, "loras"), "base-*"));
        foreach (var m in modules)
        {
            var tensor = set.Manifests[m.Component].Tensors.Single(t => t.Key == m.Key);
            var before = KeyLayout(converted, m.Component, tensor);
            var after = KeyLayout(variant, m.Component, tensor);
            var down = m.Down.Stored();
            var up = m.Up.Stored();
            var rows = (int)tensor.KeyShape[0];
            var columns = before.Length / rows;
            var scale = (m.Component == "unet" ? unet : te) * (m.Alpha ?? Rank) / Rank;
            for (var o = 0; o < rows; o++)
            {
                for (var i = 0; i < columns; i++)
                {
                    var sum = 0.0;
                    for (var k = 0; k < Rank; k++) sum += (double)up[o * Rank + k] * down[k * columns + i];
                    var expected = before[o * columns + i] + scale * sum;
                    Assert.True(Math.Abs(expected - after[o * columns + i]) < 1e-5, $"{m.Key}[{o}, {i}]: {after[o * columns + i]} != {expected}");
                }
            }
            Assert.NotEqual(before, after);
        }
        // Weights no module names are unchanged: the misfit's target, and the VAE (linked or copied, not merged).
        var untouched = set.Manifests["unet"].Tensors.Single(t => t.Key == misfit.Key);
        Assert.Equal(KeyLayout(converted, "unet", untouched), KeyLayout(variant, "unet", untouched));
        Assert.Equal(File.ReadAllBytes(Path.Combine(converted, "vae_decoder", "weights.bin")), File.ReadAllBytes(Path.Combine(variant, "vae_decoder", "weights.bin")));

        // Multiplier 0 is the base model; an unknown name is warned about and the image still made.
        var (zeroPixels, zeroWarnings, _) = await Generate("a red cat <lora:x:0>");
        Assert.Equal(basePixels, zeroPixels);
        Assert.Empty(zeroWarnings);
        var (missingPixels, missingWarnings, _) = await Generate("a red cat <lora:nope:1>");
        Assert.Equal(basePixels, missingPixels);
        Assert.Contains("LoRA 'nope' not found", Assert.Single(missingWarnings));

        // Back to the LoRA: from the cache (no merge), same image, same warnings.
        var stamp = Directory.GetLastWriteTimeUtc(Path.Combine(variant, "unet", "weights.bin"));
        var (cachedPixels, cachedWarnings, cachedSwitch) = await Generate($"a red cat <lora:x:{te}:{unet}>");
        Assert.Equal(loraPixels, cachedPixels);
        Assert.Equal(warnings, cachedWarnings);
        Assert.Equal(stamp, Directory.GetLastWriteTimeUtc(Path.Combine(variant, "unet", "weights.bin")));
        Assert.Single(Directory.GetDirectories(Path.Combine(_h.CachePath, "loras"), "base-*"));

        // Text-encoder-only and UNet-only multipliers give different images (the two parts are applied separately).
        var (teOnly, _, _) = await Generate("a red cat <lora:x:1:0>");
        var (unetOnly, _, _) = await Generate("a red cat <lora:x:0:1>");
        Assert.NotEqual(basePixels, teOnly);
        Assert.NotEqual(basePixels, unetOnly);
        Assert.NotEqual(teOnly, unetOnly);

        output.WriteLine($"sd15-tiny: base image {baseTook.TotalMilliseconds:F0} ms (conversion + load); first switch to <lora:x> {firstSwitch.TotalMilliseconds:F0} ms (merge + load + image); cached switch back {cachedSwitch.TotalMilliseconds:F0} ms (load + image)");
        foreach (var line in _h.Engine.Logs.Entries.Where(e => e.Message.StartsWith("LoRA set", StringComparison.Ordinal))) output.WriteLine(line.Message);
    }

    [Fact]
    public async Task An_sdxl_lora_on_sd15_is_reported_and_the_image_still_made()
    {
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "sd15-tiny.safetensors"), Path.Combine(_h.ModelsPath, "base.safetensors"));
        _h.Engine.Engine.RefreshModels();
        var tensors = new List<TestTensor>
        {
            new("lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", "F16", [Rank, 768], RandomValues(Rank * 768, 1)),
            new("lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight", "F16", [768, Rank], RandomValues(Rank * 768, 1)),
            new("lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", "F16", [Rank, 1280], RandomValues(Rank * 1280, 1)),
            new("lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight", "F16", [1280, Rank], RandomValues(Rank * 1280, 1)),
        };
        Directory.CreateDirectory(Path.Combine(_h.ModelsPath, "Lora"));
        SafetensorsWriter.Write(Path.Combine(_h.ModelsPath, "Lora", "xl.safetensors"), tensors);
        // A file that is not safetensors at all.
        File.WriteAllText(Path.Combine(_h.ModelsPath, "Lora", "broken.safetensors"), "not a safetensors file");

        var (basePixels, _, _) = await Generate("a red cat");
        var (pixels, warnings, _) = await Generate("a red cat <lora:xl:1> <lora:broken:1>");
        Assert.Equal(basePixels, pixels);
        Assert.Contains(warnings, w => w.Contains("'xl'") && w.Contains("SDXL LoRA on a non-SDXL model"));
        Assert.Contains(warnings, w => w.Contains("'broken' cannot be read"));
    }

    [Fact]
    public async Task A_lora_on_a_folder_model_whose_graph_names_no_such_module_is_reported()
    {
        var lora = Path.Combine(_h.ModelsPath, "Lora", "x.safetensors");
        WriteLora(lora, [new Module("lora_unet_conv_in", "unet", "", new TestTensor("lora_unet_conv_in.lora_down.weight", "F32", [Rank, 4, 3, 3], RandomValues(Rank * 36, 1)),
            new TestTensor("lora_unet_conv_in.lora_up.weight", "F32", [32, Rank, 1, 1], RandomValues(Rank * 32, 1)), null)]);
        var folderModel = _h.Engine.Engine.ListModels().First(m => m.FileName is null && m.Error is null).Name;
        using var result = await _h.Engine.Engine.GenerateAsync(Request("a cat <lora:x:1>") with { Model = folderModel }, null, CancellationToken.None);
        Assert.Single(result.Images);
        // The tiny test graph is built by hand without diffusers' module names (OnnxFolderLoraTests has the folder that has them).
        var warning = Assert.Single(result.Parameters.Warnings);
        Assert.True(warning.Contains("carry no diffusers/transformers module names") || warning.Contains($"match no weight of {folderModel}"), warning);
    }
}
