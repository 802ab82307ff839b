using System.Text.Json;
using SdBlazor.Engine.Schedulers;
using static SdBlazor.Engine.Tests.Schedulers.SchedulerTestConfigs;

namespace SdBlazor.Engine.Tests.Schedulers;

/// <summary>
/// LMS on img2img-length schedules (the loop starts part-way) against goldens computed from diffusers' published
/// step rule by <c>tools/goldens/lms_img2img.py</c> (which reproduces the full-length diffusers golden to 1.4e-6).
/// </summary>
public class LmsImg2ImgGoldenTests
{
    private static readonly JsonElement Runs = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "lms_img2img_sd15_20steps.json"))).RootElement.GetProperty("runs");

    public static TheoryData<double> Strengths() => [0.75, 0.5, 0.3, 0.1];

    [Theory]
    [MemberData(nameof(Strengths))]
    public void Img2img_loop_matches_the_diffusers_order_rule(double strength)
    {
        var golden = Runs.EnumerateArray().Single(r => r.GetProperty("strength").GetDouble() == strength);
        var expected = golden.GetProperty("final_values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var scheduler = SchedulerFactory.Create("LMS", "Automatic", Sd15);
        scheduler.SetTimesteps(20);
        var start = ImageToImage.StartIndex(20, strength, scheduler.Order);
        Assert.Equal(golden.GetProperty("start_index").GetInt32(), start);
        scheduler.SetBeginIndex(start);

        var noise = Enumerable.Range(0, DummyLoop.Size).Select(i => (float)Math.Cos(0.11 * i)).ToArray();
        var latents = new float[DummyLoop.Size];
        scheduler.AddNoise(DummyLoop.InitialSample(), noise, scheduler.Timesteps[start], latents);
        var input = new float[DummyLoop.Size];
        var output = new float[DummyLoop.Size];
        foreach (var t in scheduler.Timesteps.Skip(start).ToArray())
        {
            scheduler.ScaleModelInput(latents, t, input);
            DummyLoop.Model(input, t, output);
            scheduler.Step(output, t, latents, null);
        }

        var scale = expected.Max(Math.Abs);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - latents[i]) <= 1e-4 * scale,
                $"strength {strength}: value {i} is {latents[i]}, the diffusers rule gives {expected[i]}");
        }
    }
}
