using System.Net;
using SdBlazor.Engine.Models.Sources;
using SdBlazor.Engine.Tests.Checkpoints;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Tests.Api;

namespace SdBlazor.Web.Tests.Hubs;

/// <summary>
/// Issue 28: a single-file checkpoint counts against the memory budget as the fp32 model it is converted into (not its
/// fp16 file), so one too large for the budget is refused at submit, before anything is converted.
/// </summary>
[Collection(SdApiCollection.Name)]
public sealed class CheckpointAdmissionTests
{
    private const string Request = """{"prompt": "a cat", "steps": 1, "width": 64, "height": 64, "override_settings": {"sd_model_checkpoint": "tiny"}}""";

    private static readonly GraphSet Set = GraphSet.Load(TestCheckpoints.GraphSetPath("sd15-tiny"));

    // The converted folder's size, counted here from the graph set itself: fp32 weights and graphs.
    private static readonly long Fp32Bytes = Set.Manifests.Values.Sum(m => m.TotalBytes)
        + Set.Info.Components.Sum(c => new FileInfo(Set.GraphPath(c)).Length);

    // What a 64² job of a model of no size needs: what a checkpoint counted as 0 bytes (or as its small file) would need.
    private static readonly long WithoutModel = JobMemoryEstimator.PeakBytes(new JobMemoryInput(0, 64, 64, 1, false), new MemoryProfile());

    private static SdApiFactory Factory(long budget)
    {
        var factory = new SdApiFactory();
        factory.Settings["Engine:ArchitecturesPath"] = Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "architectures");
        factory.Settings["Engine:CheckpointCachePath"] = Path.Combine(factory.Root, "checkpoint-cache");
        factory.Settings["Generation:MemoryBudgetBytes"] = budget.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Written before the app starts, so its first scan lists it.
        var file = TestCheckpoints.ForGraphSet(Set, "sd15", new TestCheckpoints.Options(DType: "F16"));
        SafetensorsWriter.Write(Path.Combine(factory.ModelsPath, "tiny.safetensors"), file);
        Assert.True(new FileInfo(Path.Combine(factory.ModelsPath, "tiny.safetensors")).Length < Fp32Bytes, "the fp16 file is smaller than its fp32 model");
        return factory;
    }

    private static bool Converted(SdApiFactory factory)
    {
        var cache = Path.Combine(factory.Root, "checkpoint-cache");
        return Directory.Exists(cache) && Directory.EnumerateDirectories(cache).Any();
    }

    [Fact]
    public async Task A_checkpoint_over_the_budget_is_refused_with_its_need_before_it_is_converted()
    {
        // Room for the job and the fp16 file, not for the fp32 model the engine would load (it counts twice, widened).
        using var factory = Factory(WithoutModel + Fp32Bytes);
        var api = factory.Api();

        var refused = await api.PostJsonAsync("/sdapi/v1/txt2img", Request);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Status);
        Assert.Contains("needs about", refused.Text);
        Assert.Contains($"allows {MemoryAdmission.GiB(WithoutModel + Fp32Bytes)}", refused.Text);
        Assert.Contains("model tiny", refused.Text);
        Assert.False(Converted(factory), "nothing is converted for a refused job");
    }

    [Fact]
    public async Task A_checkpoint_within_the_budget_is_converted_and_generates()
    {
        using var factory = Factory(WithoutModel + 4 * Fp32Bytes);
        var api = factory.Api();

        var reply = await api.PostJsonAsync("/sdapi/v1/txt2img", Request);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("tiny", reply.Info.GetProperty("sd_model_name").GetString());
        Assert.True(Converted(factory));
    }
}
