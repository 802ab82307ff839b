using SdBlazor.Engine.Tests.Checkpoints;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using SixLabors.ImageSharp;

namespace SdBlazor.Engine.Tests.Loras;

/// <summary>
/// LoRAs on a diffusers-ONNX folder (no weight manifest): the tiny SD 1.5 checkpoint's conversion, copied into the
/// models folder as a plain folder, takes the same LoRA as the checkpoint itself. Its initializers are found from the
/// graph (named conv weights, anonymous <c>onnx::MatMul_N</c> weights through their node's module path, the text
/// encoder's <c>/layers.N/…</c> nodes under kohya's <c>text_model.encoder</c>), so the merged weights must be the very
/// bytes the manifest path writes (which LoraMergeTests and LycorisMergeTests check against plain-loop references),
/// and the image the same. A folder whose graph has other names gets a warning that says why.
/// </summary>
public sealed class OnnxFolderLoraTests : IDisposable
{
    private const int Rank = 4;
    private readonly CheckpointHarness _h = new();
    private readonly Random _random = new(11);

    public void Dispose() => _h.Dispose();

    private float[] Values(long count) => [.. Enumerable.Range(0, (int)count).Select(_ => (float)(_random.NextDouble() * 2 - 1) * 0.5f)];

    private static GenerationRequest Request(string model, string prompt) => new()
    {
        Prompt = prompt, NegativePrompt = "", Seed = 3, Steps = 2, CfgScale = 7, Model = model, Sampler = "Euler",
    };

    private async Task<(byte[] Pixels, IReadOnlyList<string> Warnings)> Generate(string model, string prompt)
    {
        using var result = await _h.Engine.Engine.GenerateAsync(Request(model, prompt), null, CancellationToken.None);
        var image = Assert.Single(result.Images).Image;
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return (bytes, result.Parameters.Warnings);
    }

    private static void CopyFolder(string source, string destination)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
    }

    [Fact]
    public async Task A_folder_model_takes_a_lora_exactly_as_its_checkpoint_does()
    {
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "sd15-tiny.safetensors"), Path.Combine(_h.ModelsPath, "base.safetensors"));
        _h.Engine.Engine.RefreshModels();
        var (basePlain, _) = await Generate("base", "a red cat");
        CopyFolder(Assert.Single(Directory.GetDirectories(_h.CachePath, "base-*")), Path.Combine(_h.ModelsPath, "folder"));
        _h.Engine.Engine.RefreshModels();

        Directory.CreateDirectory(Path.Combine(_h.ModelsPath, "Lora"));
        SafetensorsWriter.Write(Path.Combine(_h.ModelsPath, "Lora", "x.safetensors"),
        [
            // An anonymous MatMul weight, a named conv, a text-encoder MatMul and a LoHa on a wide MatMul.
            new("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight", "F32", [Rank, 32], Values(Rank * 32)),
            new("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_up.weight", "F32", [32, Rank], Values(Rank * 32)),
            new("lora_unet_conv_in.lora_down.weight", "F16", [Rank, 4, 3, 3], Values(Rank * 36)),
            new("lora_unet_conv_in.lora_up.weight", "F16", [32, Rank, 1, 1], Values(32 * Rank)),
            new("lora_unet_conv_in.alpha", "F32", [], [2f]),
            new("lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", "F32", [Rank, 16], Values(Rank * 16)),
            new("lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight", "F32", [16, Rank], Values(16 * Rank)),
            new("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_2.hada_w1_a", "F32", [32, 2], Values(64)),
            new("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_2.hada_w1_b", "F32", [2, 128], Values(256)),
            new("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_2.hada_w2_a", "F32", [32, 2], Values(64)),
            new("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_2.hada_w2_b", "F32", [2, 128], Values(256)),
        ]);

        var (folderPlain, plainWarnings) = await Generate("folder", "a red cat");
        Assert.Equal(basePlain, folderPlain);
        Assert.Empty(plainWarnings);
        var (checkpointLora, checkpointWarnings) = await Generate("base", "a red cat <lora:x:0.9:1.1>");
        var (folderLora, folderWarnings) = await Generate("folder", "a red cat <lora:x:0.9:1.1>");
        Assert.Empty(checkpointWarnings);
        Assert.Empty(folderWarnings);
        Assert.NotEqual(folderPlain, folderLora);
        Assert.Equal(checkpointLora, folderLora);

        var variants = Directory.GetDirectories(Path.Combine(_h.CachePath, "loras"));
        var fromCheckpoint = Assert.Single(variants, v => Path.GetFileName(v).StartsWith("base-", StringComparison.Ordinal));
        var fromFolder = Assert.Single(variants, v => Path.GetFileName(v).StartsWith("folder-", StringComparison.Ordinal));
        foreach (var component in new[] { "unet", "text_encoder" })
        {
            var merged = File.ReadAllBytes(Path.Combine(fromFolder, component, "weights.bin"));
            Assert.Equal(File.ReadAllBytes(Path.Combine(fromCheckpoint, component, "weights.bin")), merged);
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(_h.ModelsPath, "folder", component, "weights.bin")), merged);
        }
    }

    [DefaultModelFact]
    public async Task A_folder_whose_graph_has_other_names_is_warned_about_and_the_image_still_made()
    {
        // The embedded default model was exported from its own modules (te.blocks.N…, not transformers' names).
        Directory.CreateSymbolicLink(Path.Combine(_h.ModelsPath, DefaultModel.Name), DefaultModel.Path!);
        _h.Engine.Engine.RefreshModels();
        Directory.CreateDirectory(Path.Combine(_h.ModelsPath, "Lora"));
        SafetensorsWriter.Write(Path.Combine(_h.ModelsPath, "Lora", "sd15.safetensors"),
        [
            new("lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", "F32", [Rank, 768], Values(Rank * 768)),
            new("lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight", "F32", [768, Rank], Values(768 * Rank)),
        ]);
        var (plain, _) = await Generate(DefaultModel.Name, "a red cat");
        var (withLora, warnings) = await Generate(DefaultModel.Name, "a red cat <lora:sd15:1>");
        Assert.Equal(plain, withLora);
        var warning = Assert.Single(warnings);
        Assert.Contains("match no weight of sdblazor-mini", warning);
        Assert.Contains("lora_te_text_model_encoder_layers_0_self_attn_q_proj", warning);
    }
}
