// `pixelgrad train-upp`: trains upernet-multitask on the toy "Broden" sources (tools/upp_training.h),
// one source per step, texture last, and reports every head's metric on validation images.
//   <out>/log.csv              step, source, loss, wall seconds
//   <out>/weights.safetensors  the net's state_dict (for `--init` of another run)
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/safetensors.h"
#include "tools/commands.h"
#include "tools/upp_training.h"

namespace pg {

namespace {

struct UppCommandOptions {
  UppTrainOptions train;
  std::string out_dir;
  int threads = 0;
  int64_t log_every = 50;
  int64_t val_every = 0;  // 0: at the end of each phase only
};

void print_metrics(int64_t step, const UppMetrics& m) {
  std::printf(
      "  step %lld validation (%lld images): object mIoU %.4f (pixel acc %.4f) | part mIoU %.4f | "
      "material mIoU %.4f | scene acc %.4f | texture acc %.4f\n",
      static_cast<long long>(step), static_cast<long long>(m.images), m.object_miou, m.object_pixel_accuracy,
      m.part_miou, m.material_miou, m.scene_accuracy, m.texture_accuracy);
  std::fflush(stdout);
}

int run_train_upp(const UppCommandOptions& command) {
  if (command.threads > 0) omp_set_num_threads(command.threads);
  const UppTrainOptions& o = command.train;
  UppTrainer trainer(o);
  const std::string out = command.out_dir.empty() ? "runs/" + o.arch : command.out_dir;
  std::filesystem::create_directories(out);
  std::ofstream csv(out + "/log.csv");
  check(csv.good(), "train-upp: cannot write ", out, "/log.csv");
  csv << "step,source,loss,seconds\n";
  std::printf("pixelgrad train-upp: %s (%lld parameters)\n", o.arch.c_str(),
              static_cast<long long>(trainer.net().parameter_count()));
  std::printf(
      "  toy Broden: 3 sources x %lld images %dx%d (scene_parsing: object+part+scene, surfaces: "
      "material, textures: texture), %lld val images\n",
      static_cast<long long>(o.toy_train), o.toy_size, o.toy_size, static_cast<long long>(o.toy_val));
  std::printf(
      "  %lld steps of batch %d (the last %lld: texture only), Adam lr %g poly, seed %llu, %d threads\n",
      static_cast<long long>(o.steps), o.batch, static_cast<long long>(o.texture_steps), o.lr,
      static_cast<unsigned long long>(o.seed), omp_get_max_threads());
  const auto start = std::chrono::steady_clock::now();
  double sums[3] = {0, 0, 0};
  int64_t counts[3] = {0, 0, 0};
  while (trainer.current_step() < o.steps) {
    const BrodenSource source = trainer.current_source();
    const float loss = trainer.train_step();
    const int64_t step = trainer.current_step();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    csv << step << ',' << source_name(source) << ',' << loss << ',' << seconds << '\n';
    sums[static_cast<int>(source)] += loss, ++counts[static_cast<int>(source)];
    if (step % command.log_every == 0 || step == o.steps) {
      std::printf("step %lld/%lld  %.0f s  mean loss:", static_cast<long long>(step),
                  static_cast<long long>(o.steps), seconds);
      for (int s = 0; s < 3; ++s)
        if (counts[s] > 0)
          std::printf("  %s %.4f", source_name(static_cast<BrodenSource>(s)), sums[s] / counts[s]);
      std::printf("\n");
      std::fflush(stdout);
      for (int s = 0; s < 3; ++s) sums[s] = 0, counts[s] = 0;
    }
    const bool phase_end = step == o.steps - o.texture_steps || step == o.steps;
    if (phase_end || (command.val_every > 0 && step % command.val_every == 0))
      print_metrics(step, trainer.validate());
  }
  save_safetensors(out + "/weights.safetensors", trainer.net().state_dict(), {{"arch", o.arch}});
  std::printf("wrote %s/log.csv and %s/weights.safetensors\n", out.c_str(), out.c_str());
  return 0;
}

}  // namespace

Command add_train_upp_command(CLI::App& parent) {
  auto options = std::make_shared<UppCommandOptions>();
  CLI::App* app = parent.add_subcommand(
      "train-upp",
      "train upernet-multitask on toy Broden sources (one per step, texture last); every head's metric");
  UppTrainOptions& t = options->train;
  app->add_option("--arch", t.arch, "upernet-multitask-tiny")->capture_default_str();
  app->add_option("--toy", t.toy_train, "toy images per source")->capture_default_str();
  app->add_option("--toy-val", t.toy_val, "validation images")->capture_default_str();
  app->add_option("--toy-size", t.toy_size, "side of the toy images")->capture_default_str();
  app->add_option("--steps", t.steps, "training steps, the texture phase included")->capture_default_str();
  app->add_option("--texture-steps", t.texture_steps, "the last steps, on the texture source only")
      ->capture_default_str();
  app->add_option("--batch", t.batch, "images per step")->capture_default_str();
  app->add_option("--lr", t.lr, "Adam's base lr (poly over each phase)")->capture_default_str();
  app->add_option("--seed", t.seed, "weights and shuffling")->capture_default_str();
  app->add_option("--data-seed", t.data_seed, "toy images")->capture_default_str();
  app->add_option("--out", options->out_dir, "output folder (default runs/<arch>)");
  app->add_option("--threads", options->threads, "OpenMP threads")->check(CLI::Range(1, 1024));
  app->add_option("--log-every", options->log_every, "steps between loss lines")
      ->check(CLI::Range(1, 1 << 30));
  app->add_option("--val-every", options->val_every, "steps between validations (0: at each phase's end)");
  return {app, [options] { return run_train_upp(*options); }};
}

}  // namespace pg
