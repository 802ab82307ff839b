using SdBlazor.Engine.Models;
using SdBlazor.Engine.Tests.TestModels;
using Xunit;

namespace SdBlazor.Engine.Tests;

/// <summary>A missing, partial or corrupt model folder fails with a message naming the file and the problem.</summary>
public sealed class ModelFolderTests : IDisposable
{
    private readonly string _parent = Path.Combine(Path.GetTempPath(), "sdblazor-folder-tests", Guid.NewGuid().ToString("N"));
    private readonly string _model;

    public ModelFolderTests() => _model = TinyModel.Create(_parent);

    [Fact]
    public void Complete_folder_opens_with_defaults()
    {
        var folder = ModelFolder.Open(_model);
        Assert.Equal("tiny", folder.Name);
        Assert.Equal((64, 64), (folder.NativeWidth, folder.NativeHeight));
        Assert.Equal(0.18215f, folder.ScalingFactor);
        Assert.True(folder.SupportsImg2Img);
        Assert.Null(folder.PreviewFactors);
        Assert.Contains("\"steps_offset\":1", folder.SchedulerConfigJson);
    }

    [Fact]
    public void Optional_configs_set_native_size_scaling_factor_and_preview_coefficients()
    {
        var model = TinyModel.Create(_parent, "configured", new TinyModelOptions
        {
            SampleSize = 12,
            ScalingFactor = 0.13025f,
            LatentPreviewJson = """{"latent_rgb_factors": [[1,0,0],[0,1,0],[0,0,1],[0.5,0.5,0.5]], "latent_rgb_bias": [0.1, 0.2, 0.3]}""",
        });
        var folder = ModelFolder.Open(model);
        Assert.Equal((96, 96), (folder.NativeWidth, folder.NativeHeight));
        Assert.Equal(0.13025f, folder.ScalingFactor);
        Assert.Equal([0.1f, 0.2f, 0.3f], folder.PreviewFactors!.Bias);
        Assert.Equal([0.5f, 0.5f, 0.5f], folder.PreviewFactors.Factors[3]);
    }

    [Fact]
    public void Missing_unet_config_means_512()
    {
        var folder = ModelFolder.Open(TinyModel.Create(_parent, "noconfig", new TinyModelOptions { SampleSize = null }));
        Assert.Equal(512, folder.NativeWidth);
    }

    [Theory]
    [InlineData("model_index.json")]
    [InlineData("tokenizer/vocab.json")]
    [InlineData("tokenizer/merges.txt")]
    [InlineData("tokenizer/tokenizer_config.json")]
    [InlineData("tokenizer/special_tokens_map.json")]
    [InlineData("scheduler/scheduler_config.json")]
    [InlineData("text_encoder/model.onnx")]
    [InlineData("unet/model.onnx")]
    [InlineData("vae_decoder/model.onnx")]
    public void Missing_required_file_is_named(string file)
    {
        File.Delete(Path.Combine(_model, file));
        var error = Assert.Throws<ModelFolderException>(() => ModelFolder.Open(_model));
        Assert.Equal($"Model 'tiny': {file} is missing.", error.Message);
    }

    [Fact]
    public void Missing_folder_is_named()
    {
        var error = Assert.Throws<ModelFolderException>(() => ModelFolder.Open(Path.Combine(_parent, "absent")));
        Assert.Contains("absent", error.Message);
        Assert.Contains("does not exist", error.Message);
    }

    [Theory]
    [InlineData("model_index.json")]
    [InlineData("scheduler/scheduler_config.json")]
    [InlineData("tokenizer/special_tokens_map.json")]
    [InlineData("unet/config.json")]
    public void Invalid_json_is_named(string file)
    {
        File.WriteAllText(Path.Combine(_model, file), "{ \"broken\": ");
        var error = Assert.Throws<ModelFolderException>(() => ModelFolder.Open(_model));
        Assert.StartsWith($"Model 'tiny': {file} is not valid JSON", error.Message);
    }

    [Fact]
    public void Unsupported_scheduler_value_is_named()
    {
        File.WriteAllText(Path.Combine(_model, "scheduler", "scheduler_config.json"), """{"beta_schedule": "cubic"}""");
        var error = Assert.Throws<ModelFolderException>(() => ModelFolder.Open(_model));
        Assert.Contains("scheduler/scheduler_config.json", error.Message);
        Assert.Contains("beta_schedule 'cubic'", error.Message);
    }

    [Fact]
    public void Bad_latent_preview_json_is_named()
    {
        File.WriteAllText(Path.Combine(_model, "latent_preview.json"), """{"latent_rgb_factors": [[1, 2]]}""");
        var error = Assert.Throws<ModelFolderException>(() => ModelFolder.Open(_model));
        Assert.Contains("latent_preview.json", error.Message);
        Assert.Contains("latent_rgb_factors[0]", error.Message);
    }

    [Fact]
    public void Truncated_onnx_file_is_reported_as_truncated()
    {
        var unet = Path.Combine(_model, "unet", "model.onnx");
        var bytes = File.ReadAllBytes(unet);
        File.WriteAllBytes(unet, bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<ModelFolderException>(() => ModelFolder.Open(_model));
        Assert.StartsWith("Model 'tiny': unet/model.onnx is not a valid ONNX model", error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void Garbage_onnx_file_is_reported()
    {
        File.WriteAllText(Path.Combine(_model, "vae_decoder", "model.onnx"), "<html>404 Not Found</html>");
        var error = Assert.Throws<ModelFolderException>(() => ModelFolder.Open(_model));
        Assert.StartsWith("Model 'tiny': vae_decoder/model.onnx is not a valid ONNX model", error.Message);
    }

    [Fact]
    public void Empty_onnx_file_is_reported()
    {
        File.WriteAllBytes(Path.Combine(_model, "text_encoder", "model.onnx"), []);
        var error = Assert.Throws<ModelFolderException>(() => ModelFolder.Open(_model));
        Assert.Equal("Model 'tiny': text_encoder/model.onnx is empty (0 bytes).", error.Message);
    }

    [Fact]
    public void Optional_vae_encoder_missing_only_disables_img2img()
    {
        Directory.Delete(Path.Combine(_model, "vae_encoder"), true);
        Assert.False(ModelFolder.Open(_model).SupportsImg2Img);
    }

    public void Dispose()
    {
        try { Directory.Delete(_parent, true); } catch (IOException) { }
    }
}
