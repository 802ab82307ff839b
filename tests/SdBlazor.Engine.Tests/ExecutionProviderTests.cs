using Microsoft.Extensions.Logging;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using Xunit;

namespace SdBlazor.Engine.Tests;

/// <summary>This machine has neither CUDA nor DirectML: explicit choices fall back to CPU with a warning naming the cause.</summary>
public sealed class ExecutionProviderTests
{
    private static readonly GenerationRequest Request = new() { Prompt = "a cat", Steps = 1, Seed = 1 };

    [Theory]
    [InlineData(ExecutionProviderKind.Cuda, "CUDA")]
    [InlineData(ExecutionProviderKind.DirectML, "DirectML")]
    public async Task Unavailable_explicit_provider_falls_back_to_cpu_with_a_warning(ExecutionProviderKind kind, string provider)
    {
        using var harness = new EngineHarness(provider: kind);
        using var result = await harness.Engine.GenerateAsync(Request, null, CancellationToken.None);

        Assert.Equal("CPU", result.Parameters.ExecutionProvider);
        var warning = Assert.Single(harness.Logs.Entries, e => e.Level == LogLevel.Warning && e.Category == nameof(SessionFactory));
        Assert.Contains($"Execution provider {provider} was requested", warning.Message);
        Assert.Contains("falling back to CPU", warning.Message);
        Assert.Matches("(EntryPointNotFoundException|OnnxRuntimeException|DllNotFoundException): ", warning.Message);
        Assert.NotNull(harness.Sessions.UnavailableCause(provider));
    }

    [Fact]
    public async Task A_profile_prefix_makes_every_session_write_onnx_runtime_profiles()
    {
        var prefix = Path.Combine(Path.GetTempPath(), $"sdblazor-profile-test-{Guid.NewGuid():N}");
        using var harness = new EngineHarness(configure: o => o.ProfileOutputPrefix = prefix);
        using var result = await harness.Engine.GenerateAsync(Request, null, CancellationToken.None);

        var file = harness.Engine.Resident!.UNet.Session.Session.EndProfiling();
        try
        {
            Assert.StartsWith(prefix, file);
            var trace = await File.ReadAllTextAsync(file);
            Assert.Contains("\"model_run\"", trace);
            Assert.Contains("_kernel_time", trace);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Auto_uses_cpu_here_without_warnings()
    {
        using var harness = new EngineHarness(provider: ExecutionProviderKind.Auto);
        using var result = await harness.Engine.GenerateAsync(Request, null, CancellationToken.None);

        Assert.Equal("CPU", result.Parameters.ExecutionProvider);
        Assert.DoesNotContain(harness.Logs.Entries, e => e.Level >= LogLevel.Warning);
        Assert.Contains(harness.Logs.Entries, e => e.Message.Contains("CUDA is not available"));
    }
}
