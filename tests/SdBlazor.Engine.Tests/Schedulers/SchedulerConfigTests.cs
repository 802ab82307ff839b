using SdBlazor.Engine.Schedulers;
using SdBlazor.Engine.Tests.Fixtures;

namespace SdBlazor.Engine.Tests.Schedulers;

public class SchedulerConfigTests
{
    [Fact]
    public void Reads_sd15_config_and_leaves_class_dependent_keys_unset()
    {
        var config = SchedulerConfig.Parse(GoldenFixtures.Sd15SchedulerConfigJson);
        Assert.Equal(1000, config.NumTrainTimesteps);
        Assert.Equal(0.00085, config.BetaStart);
        Assert.Equal(0.012, config.BetaEnd);
        Assert.Equal(BetaSchedule.ScaledLinear, config.BetaSchedule);
        Assert.Equal(1, config.StepsOffset);
        Assert.False(config.SetAlphaToOne);
        Assert.False(config.ClipSample);
        Assert.Null(config.TimestepSpacing);
        Assert.Null(config.TrainedBetas);
    }

    [Fact]
    public void Load_names_the_file_in_errors()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sched-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{"beta_schedule": "sigmoid"}""");
        try
        {
            var error = Assert.Throws<InvalidDataException>(() => SchedulerConfig.Load(path));
            Assert.Contains(path, error.Message);
            Assert.Contains("beta_schedule 'sigmoid'", error.Message);
            Assert.Contains("scaled_linear", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("not json", "not valid")]
    [InlineData("""{"timestep_spacing": "random"}""", "timestep_spacing 'random'")]
    [InlineData("""{"prediction_type": "sample"}""", "prediction_type 'sample'")]
    [InlineData("""{"num_train_timesteps": 3, "trained_betas": [0.1, 0.2]}""", "trained_betas has 2 values")]
    [InlineData("""{"beta_start": 1.5}""", "beta_start")]
    public void Bad_values_give_clear_errors(string json, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => SchedulerConfig.Parse(json));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Trained_betas_replace_the_beta_schedule()
    {
        var betas = Enumerable.Repeat(0.01, 10).ToArray();
        var scheduler = new DdimScheduler(SchedulerConfig.Parse($$"""{"num_train_timesteps": 10, "trained_betas": [{{string.Join(",", betas)}}]}"""));
        Assert.Equal(Math.Pow(0.99, 10), scheduler.AlphasCumprod[9], 1e-6);
    }

    [Fact]
    public void Squaredcos_cap_v2_follows_the_glide_cosine_schedule()
    {
        var scheduler = new DdimScheduler(SchedulerConfig.Parse("""{"beta_schedule": "squaredcos_cap_v2"}"""));
        static double AlphaBar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);
        // ᾱ_t telescopes to alpha_bar((t+1)/N) / alpha_bar(0) while no beta hits the 0.999 cap.
        Assert.Equal(AlphaBar(500 / 1000.0) / AlphaBar(0), scheduler.AlphasCumprod[499], 1e-5);
        Assert.Equal(1 - Math.Min(1 - AlphaBar(1.0) / AlphaBar(0.999), 0.999), scheduler.AlphasCumprod[999] / scheduler.AlphasCumprod[998], 1e-5);
    }

    [Fact]
    public void Linear_default_betas_apply_when_the_config_is_empty()
    {
        var scheduler = new EulerDiscreteScheduler(SchedulerConfig.Parse("{}"));
        Assert.Equal(1 - 0.0001, scheduler.AlphasCumprod[0], 1e-7);
    }
}
