using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SdBlazor.Engine.Hosting;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;

namespace SdBlazor.Engine.Tests;

public sealed class ModelRegistryTests : IDisposable
{
    private readonly EngineHarness _harness = new();

    [Fact]
    public void Lists_model_folders_by_name_with_native_size_and_img2img_support()
    {
        var model = Assert.Single(_harness.Engine.ListModels());
        Assert.Equal(("tiny", 64, 64, true), (model.Name, model.NativeWidth, model.NativeHeight, model.SupportsImg2Img));
        Assert.Equal(_harness.ModelPath, model.Path);
    }

    [Fact]
    public async Task Refresh_picks_up_new_folders_drops_removed_ones_and_releases_their_sessions()
    {
        using (await _harness.Engine.GenerateAsync(new GenerationRequest { Prompt = "a", Steps = 1, Seed = 1 }, null, CancellationToken.None)) { }
        var loaded = _harness.Engine.Resident;
        Assert.NotNull(loaded);

        TinyModel.Create(_harness.ModelsPath, "second", new TinyModelOptions { SampleSize = 12, VaeEncoder = VaeEncoderKind.None });
        Directory.CreateDirectory(Path.Combine(_harness.ModelsPath, "not-a-model"));
        _harness.Engine.RefreshModels();

        // Unchanged models stay loaded across a refresh (an import finishing re-scans the folder).
        Assert.Same(loaded, _harness.Engine.Resident);
        Assert.Equal(["second", "tiny"], _harness.Engine.ListModels().Select(m => m.Name));
        var second = _harness.Engine.ListModels()[0];
        Assert.Equal((96, false), (second.NativeWidth, second.SupportsImg2Img));

        Directory.Delete(_harness.ModelPath, true);
        _harness.Engine.RefreshModels();
        Assert.Equal(["second"], _harness.Engine.ListModels().Select(m => m.Name));
        Assert.Null(_harness.Engine.Resident);
    }

    [Fact]
    public async Task Generating_with_another_model_makes_it_the_most_recently_used()
    {
        TinyModel.Create(_harness.ModelsPath, "second");
        _harness.Engine.RefreshModels();
        using (await _harness.Engine.GenerateAsync(new GenerationRequest { Prompt = "a", Steps = 1, Seed = 1 }, null, CancellationToken.None)) { }
        var first = _harness.Engine.Resident!;
        using (await _harness.Engine.GenerateAsync(new GenerationRequest { Prompt = "a", Steps = 1, Seed = 1, Model = "second" }, null, CancellationToken.None)) { }
        Assert.Equal("second", _harness.Engine.Resident!.Folder.Name);
        Assert.NotSame(first, _harness.Engine.Resident);
    }

    [Fact]
    public void Folder_with_broken_json_is_skipped_with_a_warning()
    {
        var broken = TinyModel.Create(_harness.ModelsPath, "broken");
        File.WriteAllText(Path.Combine(broken, "model_index.json"), "{");
        _harness.Engine.RefreshModels();
        Assert.Equal(["tiny"], _harness.Engine.ListModels().Select(m => m.Name));
        Assert.Contains(_harness.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("model_index.json is not valid JSON"));
    }

    [Fact]
    public async Task Corrupt_onnx_fails_the_generation_naming_the_file()
    {
        var unet = Path.Combine(_harness.ModelPath, "unet", "model.onnx");
        File.WriteAllBytes(unet, File.ReadAllBytes(unet)[..100]);
        var error = await Assert.ThrowsAsync<ModelFolderException>(() =>
            _harness.Engine.GenerateAsync(new GenerationRequest { Prompt = "a", Steps = 1, Seed = 1 }, null, CancellationToken.None));
        Assert.Contains("unet/model.onnx", error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public async Task Onnx_graph_that_onnx_runtime_rejects_fails_naming_the_component()
    {
        var b = new OnnxBuilder().Input("x", OnnxBuilder.Float, 1).Output("y", OnnxBuilder.Float, 1);
        b.NodeTo("NoSuchOperator", ["x"], "y");
        b.Save(Path.Combine(_harness.ModelPath, "vae_decoder", "model.onnx"));

        var error = await Assert.ThrowsAsync<ModelFolderException>(() =>
            _harness.Engine.GenerateAsync(new GenerationRequest { Prompt = "a", Steps = 1, Seed = 1 }, null, CancellationToken.None));
        Assert.StartsWith("vae_decoder: ONNX Runtime cannot load", error.Message);
        Assert.Contains("NoSuchOperator", error.Message);
        Assert.Null(_harness.Engine.Resident);
    }

    [Fact]
    public void Sha256_is_of_the_unet_file()
    {
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(_harness.ModelPath, "unet", "model.onnx"))));
        Assert.True(_harness.Registry.TryGet("tiny", out var folder));
        Assert.Equal(expected, _harness.Registry.Sha256(folder));
    }

    [Fact]
    public void AddSdEngine_binds_the_engine_section_and_serves_the_engine()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Engine:ModelsPath"] = _harness.ModelsPath,
            ["Engine:DefaultModel"] = "tiny",
            ["Engine:ExecutionProvider"] = "Cpu",
            ["Engine:IntraOpThreads"] = "2",
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(config).AddLogging().AddSdEngine().BuildServiceProvider();

        var options = services.GetRequiredService<IOptions<EngineOptions>>().Value;
        Assert.Equal((ExecutionProviderKind.Cpu, 2, "tiny"), (options.ExecutionProvider, options.IntraOpThreads, options.DefaultModel));
        var engine = services.GetRequiredService<IGenerationEngine>();
        Assert.Same(services.GetRequiredService<GenerationEngine>(), engine);
        Assert.Equal("tiny", Assert.Single(engine.ListModels()).Name);
    }

    [Fact]
    public void Bad_engine_settings_are_rejected_naming_the_key()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Engine:IntraOpThreads"] = "-1",
            ["Engine:DefaultModel"] = " ",
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(config).AddLogging().AddSdEngine().BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<EngineOptions>>().Value);
        Assert.Contains("Engine:IntraOpThreads", error.Message);
        Assert.Contains("Engine:DefaultModel", error.Message);
    }

    [Fact]
    public void Default_models_path_is_the_repository_models_folder()
    {
        var root = RepositoryRoot.Find(AppContext.BaseDirectory);
        Assert.NotNull(root);
        Assert.Equal(Path.Combine(root!, "models"), new EngineOptions().ResolveModelsPath());
    }

    public void Dispose() => _harness.Dispose();
}
