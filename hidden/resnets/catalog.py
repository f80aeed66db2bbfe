"""The Residual Networks assignment's catalog (course/audit/catalog.py): realistic mistakes and
correct answers written differently, as text edits of the instructor solution's answer cells.
Data only: imports nothing of the course. Each entry: (name, graded function, [(old, new), ...],
why[, what the public test's message says]).

Left out as equivalent (no model can tell it from the solution): in bn_behaviour, not restoring
the statistics between `predict` and the training-mode call. A trainable BatchNorm layer's
statistics always change in a training-mode call, and a frozen one's never change in `predict`,
so the answer is the same either way.
"""

BN = 'BatchNormalization(axis=3, name=layer_name(name, "{}_bn"))(X, training=training)'
RELU = '    X = Activation("relu", name=layer_name(name, "{}"))(X)\n'
ADD = '    X = Add(name=layer_name(name, "add"))([X, X_shortcut])\n'
CONV3 = ('    X = Conv2D(F3, kernel_size=1, strides=1, padding="valid",\n'
         '               kernel_initializer=initializer(seed=0), '
         'name=layer_name(name, "3_conv"))(X)\n')
BN3 = f"    X = {BN.format(3)}\n"

# At least one mistake per graded function: the sample submissions (make demo).
SAMPLES = [
    ("wrong-identity-relu-before-add", "identity_block",
     [(BN3, BN3 + '    X = Activation("relu")(X)\n')],
     "a ReLU at the end of the main path, before the addition",
     'main path ends with a ReLU before the addition'),
    ("wrong-conv-stride-on-second", "convolutional_block",
     [('Conv2D(F1, kernel_size=1, strides=s,', 'Conv2D(F1, kernel_size=1, strides=1,'),
      ('Conv2D(F2, kernel_size=f, strides=1,', 'Conv2D(F2, kernel_size=f, strides=s,')],
     "the stride on the second (f×f) convolution instead of the first",
     'stride is on the wrong convolution'),
    ("wrong-conv-shortcut-no-bn", "convolutional_block",
     [('    X_shortcut = BatchNormalization(axis=3, name=layer_name(name, "0_bn"))(\n'
       '        X_shortcut, training=training)\n', "")],
     "no BatchNormalization on the shortcut",
     'the shortcut has no BatchNormalization'),
    ("wrong-resnet-no-softmax", "ResNet50",
     [('X = Dense(classes, activation="softmax",', "X = Dense(classes,")],
     "the classifier outputs logits: softmax missing",
     'the last Dense layer has no softmax'),
    ("wrong-bn-no-restore", "bn_behaviour",
     [("    training_call_changes_stats = stats_changed()\n"
       "    for w, s in zip(model.non_trainable_weights, saved):\n        w.assign(s)\n",
       "    training_call_changes_stats = stats_changed()\n")],
     "the moving statistics not restored after the training call",
     'moving statistics changed'),
    ("wrong-reestimate-momentum", "reestimate_bn_statistics",
     [("layer.momentum = (k - 1) / k", "layer.momentum = 1 / k")],
     "momentum 1/k: the first batch's statistics dominate",
     'moving_mean is not the average of the 4 batches'),
    ("wrong-transfer-not-frozen", "transfer_model",
     [("    backbone.trainable = False\n", "")],
     "the backbone left trainable: fit would retrain all of it",
     'the backbone is trainable: set backbone.trainable = False'),
    ("wrong-unfreeze-bn-trainable", "unfreeze_last_stage",
     [("layer.trainable = (layer.name.startswith(prefix)\n"
       "                           and not isinstance(layer, BatchNormalization))",
       "layer.trainable = layer.name.startswith(prefix)")],
     "conv5_'s BatchNorm layers unfrozen with it",
     "BatchNormalization layer 'conv5_block1_1_bn' is trainable"),
]


def _mistake(student, cell, edits, why):
    return (student, cell, edits, why)


def _block_mistakes(cell):
    """Mistakes that fit both blocks (their main paths are written alike)."""
    short = "identity" if cell == "identity_block" else "conv"
    return [
        _mistake(f"{short}-no-final-relu", cell, [(RELU.format("out"), "")],
                 "no ReLU after the addition"),
        _mistake(f"{short}-valid-padding-middle", cell,
                 [('Conv2D(F2, kernel_size=f, strides=1, padding="same"',
                   'Conv2D(F2, kernel_size=f, strides=1, padding="valid"')],
                 "padding 'valid' on the f×f convolution: the shapes no longer match"),
        _mistake(f"{short}-middle-uses-F1", cell,
                 [("Conv2D(F2, kernel_size=f,", "Conv2D(F1, kernel_size=f,")],
                 "filters in the wrong order: F1 on the middle convolution"),
        _mistake(f"{short}-middle-kernel-3", cell,
                 [("Conv2D(F2, kernel_size=f,", "Conv2D(F2, kernel_size=3,")],
                 "the middle window hard-coded to 3 instead of f"),
        _mistake(f"{short}-add-before-last-bn", cell,
                 [(BN3, ""), (ADD, ADD + BN3)],
                 "the shortcut added before the last BatchNormalization"),
        _mistake(f"{short}-training-pinned", cell,
                 [(BN.format(1), BN.format(1).replace("training=training", "training=True"))],
                 "training=True pinned on a BatchNormalization"),
        _mistake(f"{short}-bn-wrong-axis", cell,
                 [(BN.format(2), BN.format(2).replace("axis=3", "axis=1"))],
                 "BatchNormalization over axis 1 instead of the channels"),
        _mistake(f"{short}-middle-no-bn", cell, [(f"    X = {BN.format(2)}\n", "")],
                 "no BatchNormalization after the middle convolution"),
        _mistake(f"{short}-no-first-relu", cell, [(RELU.format("1_relu"), "")],
                 "no ReLU after the first component"),
    ]


# The audit's other mistakes: with the samples, at least 8 per graded function.
MISTAKES = _block_mistakes("identity_block") + [
    _mistake("identity-relu-on-shortcut", "identity_block",
             [("    X_shortcut = X  # saved", "    X_shortcut = Activation(\"relu\")(X)  # saved")],
             "a ReLU on the shortcut"),
    _mistake("identity-bn-momentum-0.9", "identity_block",
             [(BN.format(2), BN.format(2).replace("axis=3,", "axis=3, momentum=0.9,"))],
             "momentum=0.9 on a BatchNormalization (PyTorch's 0.1, converted): the outputs are "
             "the same, the moving statistics after training are not"),
    _mistake("identity-bn-epsilon-1e-5", "identity_block",
             [(BN.format(3), BN.format(3).replace("axis=3,", "axis=3, epsilon=1e-5,"))],
             "epsilon=1e-5 (PyTorch's default) instead of Keras' 1e-3"),
    _mistake("identity-bn3-gamma-zeros", "identity_block",
             [(BN.format(3),
               BN.format(3).replace("axis=3,", 'axis=3, gamma_initializer="zeros",'))],
             "gamma_initializer='zeros' on the last BatchNormalization (the zero-init trick of "
             "torchvision's zero_init_residual): not Keras' defaults, which the specification "
             "gives, so the student's training starts elsewhere; the hidden tests' own weights "
             "hide it"),
    _mistake("identity-initializer-uncalled", "identity_block",
             [('kernel_initializer=initializer(seed=0), name=layer_name(name, "2_conv")',
               'kernel_initializer=initializer, name=layer_name(name, "2_conv")')],
             "kernel_initializer=initializer, the class passed uncalled: Keras makes an unseeded "
             "GlorotUniform, and the notebook's stated ranges no longer reproduce"),
] + _block_mistakes("convolutional_block") + [
    _mistake("conv-shortcut-no-stride", "convolutional_block",
             [("X_shortcut = Conv2D(F3, kernel_size=1, strides=s,",
               "X_shortcut = Conv2D(F3, kernel_size=1, strides=1,")],
             "no stride on the shortcut: the shapes no longer match"),
    _mistake("conv-shortcut-kernel-f", "convolutional_block",
             [('X_shortcut = Conv2D(F3, kernel_size=1, strides=s, padding="valid"',
               'X_shortcut = Conv2D(F3, kernel_size=f, strides=s, padding="same"')],
             "an f×f window on the shortcut convolution"),
    _mistake("conv-third-uses-F2", "convolutional_block",
             [(CONV3, CONV3.replace("Conv2D(F3,", "Conv2D(F2,"))],
             "F2 filters on the third convolution"),
    _mistake("conv-shortcut-bn-momentum-0.9", "convolutional_block",
             [('BatchNormalization(axis=3, name=layer_name(name, "0_bn"))',
               'BatchNormalization(axis=3, momentum=0.9, name=layer_name(name, "0_bn"))')],
             "momentum=0.9 on the shortcut's BatchNormalization"),
    _mistake("conv-bn3-gamma-zeros", "convolutional_block",
             [(BN.format(3),
               BN.format(3).replace("axis=3,", 'axis=3, gamma_initializer="zeros",'))],
             "gamma_initializer='zeros' on the main path's last BatchNormalization (the "
             "zero-init trick): not Keras' defaults, which the specification gives"),
    _mistake("conv-initializer-uncalled", "convolutional_block",
             [(CONV3, CONV3.replace("initializer(seed=0)", "initializer"))],
             "kernel_initializer=initializer, the class passed uncalled, on the third "
             "convolution: an unseeded GlorotUniform"),
] + [
    _mistake("resnet-stage4-five-blocks", "ResNet50", [("(256, 6, 2)", "(256, 5, 2)")],
             "stage conv4 with 5 blocks instead of 6"),
    _mistake("resnet-stage2-stride-2", "ResNet50", [("(64, 3, 1)", "(64, 3, 2)")],
             "stride 2 in stage conv2"),
    _mistake("resnet-width-times-2", "ResNet50", [("4 * width", "2 * width")],
             "the last filters of each block 2× instead of 4× the width"),
    _mistake("resnet-max-pool-head", "ResNet50",
             [('AveragePooling2D((2, 2), name="avg_pool")',
               'MaxPooling2D((2, 2), name="avg_pool")')],
             "max pooling in the head instead of average pooling"),
    _mistake("resnet-avg-pool-stride-1", "ResNet50",
             [('AveragePooling2D((2, 2), name="avg_pool")',
               'AveragePooling2D((2, 2), strides=1, name="avg_pool")')],
             "AveragePooling2D((2, 2), strides=1): the same network at 64×64 (a 2×2 map gives "
             "1×1 either way), another one at 128×128 (3×3×2048 features instead of 2×2×2048)"),
    _mistake("resnet-avg-pool-whole-map", "ResNet50",
             [('AveragePooling2D((2, 2), name="avg_pool")',
               'AveragePooling2D(X.shape[1:3], name="avg_pool")')],
             "the pooling window sized to the whole last map (global pooling): (2, 2) at "
             "64×64, but the specification keeps AveragePooling2D((2, 2)) at every size"),
    _mistake("resnet-identity-f-2", "ResNet50",
             [("identity_block(X, 3, filters,", "identity_block(X, 2, filters,")],
             "f=2 in the identity blocks"),
    _mistake("resnet-six-classes-hard-coded", "ResNet50",
             [('X = Dense(classes, activation="softmax",', 'X = Dense(6, activation="softmax",')],
             "Dense(6) instead of Dense(classes)"),
    _mistake("resnet-no-conv-block", "ResNet50",
             [('X = convolutional_block(X, f=3, filters=filters, s=stride, '
               'name=f"conv{stage}_block1")',
               'X = identity_block(X, 3, filters, name=f"conv{stage}_block1")')],
             "identity blocks only: no convolutional block to change the shape"),
    _mistake("resnet-relu-head", "ResNet50",
             [('X = Dense(classes, activation="softmax",',
               'X = Dense(classes, activation="relu",')],
             "ReLU instead of softmax in the classifier"),
    _mistake("resnet-head-unnamed", "ResNet50",
             [('Flatten(name="flatten")', "Flatten()")],
             "Flatten without its name: Keras calls it flatten_3, and section 9 looks for flatten"),
    _mistake("resnet-no-flatten", "ResNet50", [('    X = Flatten(name="flatten")(X)\n', "")],
             "no Flatten: the classifier sees a 4-D tensor"),
] + [
    _mistake("bn-predict-flag-false", "bn_behaviour",
             [("    predict_changes_stats = stats_changed()\n",
               "    predict_changes_stats = False\n")],
             "predict_changes_stats hard-coded to False"),
    _mistake("bn-inference-call", "bn_behaviour",
             [("    model(images, training=True)\n", "    model(images)\n")],
             "the 'training' call made in inference mode"),
    _mistake("bn-spread-mean", "bn_behaviour",
             [("float(np.max(np.abs(p - q)))", "float(np.mean(np.abs(p - q)))")],
             "the mean difference instead of the largest"),
    _mistake("bn-spread-first-two", "bn_behaviour",
             [("spread = max(float(np.max(np.abs(p - q))) for p in predictions "
               "for q in predictions)",
               "spread = float(np.max(np.abs(predictions[0] - predictions[1])))")],
             "the spread of the first two batch sizes only"),
    _mistake("bn-predict-flag-inverted", "bn_behaviour",
             [("    predict_changes_stats = stats_changed()\n",
               "    predict_changes_stats = not stats_changed()\n")],
             "predict_changes_stats inverted"),
    _mistake("bn-training-flag-true", "bn_behaviour",
             [("    training_call_changes_stats = stats_changed()\n",
               "    training_call_changes_stats = True\n")],
             "training_call_changes_stats hard-coded to True"),
    _mistake("bn-batch-sizes-ignored", "bn_behaviour",
             [("for b in batch_sizes]", "for b in (1, 64)]")],
             "the batch sizes argument ignored"),
    _mistake("bn-predict-default-batch", "bn_behaviour",
             [("model.predict(images, batch_size=b, verbose=0)",
               "model.predict(images, verbose=0)")],
             "predict without batch_size: every prediction uses the same batches"),
] + [
    _mistake("reestimate-momentum-not-restored", "reestimate_bn_statistics",
             [("\n    for layer, momentum in zip(bn_layers, momentums):\n"
               "        layer.momentum = momentum", "")],
             "the original momentum not put back"),
    _mistake("reestimate-inference-call", "reestimate_bn_statistics",
             [("model(X[start:start + batch_size], training=True)",
               "model(X[start:start + batch_size])")],
             "the batches run in inference mode: nothing is updated"),
    _mistake("reestimate-batch-size-ignored", "reestimate_bn_statistics",
             [("range(0, len(X), batch_size)", "range(0, len(X), 32)"),
              ("X[start:start + batch_size]", "X[start:start + 32]")],
             "batch_size ignored: always 32"),
    _mistake("reestimate-momentum-off-by-one", "reestimate_bn_statistics",
             [("layer.momentum = (k - 1) / k", "layer.momentum = k / (k + 1)")],
             "momentum k/(k+1): the old statistics keep a share"),
    _mistake("reestimate-last-batch-only", "reestimate_bn_statistics",
             [("layer.momentum = (k - 1) / k", "layer.momentum = 0.0")],
             "momentum 0: only the last batch counts"),
    _mistake("reestimate-first-batch-only", "reestimate_bn_statistics",
             [("range(0, len(X), batch_size)", "range(0, batch_size, batch_size)")],
             "only the first batch used"),
    _mistake("reestimate-count-from-zero", "reestimate_bn_statistics",
             [("start=1):", "start=0):")], "batches counted from 0: division by zero"),
    _mistake("reestimate-predict", "reestimate_bn_statistics",
             [("        model(X[start:start + batch_size], training=True)\n",
               "        model.predict(X[start:start + batch_size], verbose=0)\n")],
             "predict instead of a training-mode call"),
    _mistake("reestimate-drops-last-batch", "reestimate_bn_statistics",
             [("range(0, len(X), batch_size)", "range(0, len(X) - batch_size + 1, batch_size)")],
             "the last, smaller batch left out"),
    _mistake("reestimate-momentum-restored-as-0.99", "reestimate_bn_statistics",
             [("        layer.momentum = momentum", "        layer.momentum = 0.99")],
             "momentum put back as 0.99, not each layer's own"),
] + [
    _mistake("transfer-head-on-predictions", "transfer_model",
             [('pretrained.get_layer("flatten").output',
               'pretrained.get_layer("predictions").output')],
             "the backbone keeps the old classifier"),
    _mistake("transfer-head-on-avg-pool", "transfer_model",
             [('pretrained.get_layer("flatten").output',
               'pretrained.get_layer("avg_pool").output')],
             "the backbone ends before flatten: the head sees a 4-D tensor"),
    _mistake("transfer-relu-head", "transfer_model",
             [('X = Dense(classes, activation="softmax",',
               'X = Dense(classes, activation="relu",')],
             "ReLU instead of softmax in the new head"),
    _mistake("transfer-four-classes-hard-coded", "transfer_model",
             [('X = Dense(classes, activation="softmax",', 'X = Dense(4, activation="softmax",')],
             "Dense(4) instead of Dense(classes)"),
    _mistake("transfer-head-unnamed", "transfer_model",
             [('kernel_initializer=glorot_uniform(seed=0),\n              name="new_predictions")',
               'kernel_initializer=glorot_uniform(seed=0))')],
             "the new head not named new_predictions"),
    _mistake("transfer-only-bn-frozen", "transfer_model",
             [("    backbone.trainable = False\n",
               "    for layer in backbone.layers:\n"
               "        if isinstance(layer, BatchNormalization):\n"
               "            layer.trainable = False\n")],
             "only the BatchNorm layers frozen"),
    _mistake("transfer-cloned-backbone", "transfer_model",
             [("backbone = Model(pretrained.input,",
               "backbone = keras.models.clone_model(pretrained)\n"
               "    backbone = Model(backbone.input,"),
              ('backbone = Model(backbone.input, pretrained.get_layer("flatten").output',
               'backbone = Model(backbone.input, backbone.get_layer("flatten").output')],
             "a cloned backbone: new random weights instead of the pretrained ones"),
    _mistake("transfer-frozen-head", "transfer_model",
             [('    return Model(inputs=X_input, outputs=X, name="transfer")',
               '    model = Model(inputs=X_input, outputs=X, name="transfer")\n'
               "    model.trainable = False\n    return model")],
             "the whole model frozen, head included"),
] + [
    _mistake("unfreeze-backbone-flag-left", "unfreeze_last_stage",
             [("    backbone.trainable = True\n", "")],
             "backbone.trainable left False"),
    _mistake("unfreeze-no-recompile", "unfreeze_last_stage",
             [("\n    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),\n"
               '                  loss="categorical_crossentropy", metrics=["accuracy"])', "")],
             "no recompile after changing trainable"),
    _mistake("unfreeze-prefix-hard-coded", "unfreeze_last_stage",
             [("layer.name.startswith(prefix)", 'layer.name.startswith("conv5_")')],
             "the prefix argument ignored"),
    _mistake("unfreeze-everything", "unfreeze_last_stage",
             [("layer.name.startswith(prefix)\n                           and ", "")],
             "every layer unfrozen, not just the last stage"),
    _mistake("unfreeze-sgd", "unfreeze_last_stage",
             [("keras.optimizers.Adam(learning_rate=learning_rate)",
               "keras.optimizers.SGD(learning_rate=learning_rate)")],
             "SGD instead of Adam"),
    _mistake("unfreeze-rate-ignored", "unfreeze_last_stage",
             [("keras.optimizers.Adam(learning_rate=learning_rate)",
               "keras.optimizers.Adam(learning_rate=1e-4)")],
             "the learning_rate argument ignored"),
    _mistake("unfreeze-mse-loss", "unfreeze_last_stage",
             [('loss="categorical_crossentropy"', 'loss="mse"')],
             "mean squared error instead of cross-entropy"),
    _mistake("unfreeze-head-frozen", "unfreeze_last_stage",
             [("    model.compile(", '    model.get_layer("new_predictions").trainable = False\n'
               "    model.compile(")],
             "the new head frozen while fine-tuning"),
    _mistake("unfreeze-no-accuracy-metric", "unfreeze_last_stage",
             [(', metrics=["accuracy"])', ")")],
             "recompiled without metrics=[\"accuracy\"]: the notebook's fine-tuning reads it"),
]

# Correct answers written differently: each must keep all of its cell's points.
VARIANTS = [
    ("variant-identity-relu-layers-ops-add", "identity_block",
     [('Activation("relu", name=layer_name(name, "1_relu"))',
       'keras.layers.ReLU(name=layer_name(name, "1_relu"))'),
      ('Activation("relu", name=layer_name(name, "2_relu"))',
       'keras.layers.ReLU(name=layer_name(name, "2_relu"))'),
      (ADD + RELU.format("out"), "    X = keras.ops.relu(keras.ops.add(X, X_shortcut))\n")],
     "ReLU layers and keras.ops arithmetic"),
    ("variant-identity-tuples-and-keywords", "identity_block",
     [('Conv2D(F2, kernel_size=f, strides=1, padding="same",',
       'Conv2D(filters=F2, kernel_size=(f, f), strides=(1, 1), padding="same",'),
      ('BatchNormalization(axis=3, name=layer_name(name, "2_bn"))',
       'BatchNormalization(axis=-1, name=layer_name(name, "2_bn"))'),
      (ADD, '    X = Add(name=layer_name(name, "add"))([X_shortcut, X])\n')],
     "keyword filters, tuple kernel and strides, axis=-1, the addition's inputs swapped"),
    ("variant-identity-loop-over-components", "identity_block",
     [('    X = Conv2D(F2, kernel_size=f, strides=1, padding="same",\n'
       '               kernel_initializer=initializer(seed=0), '
       'name=layer_name(name, "2_conv"))(X)\n'
       f'    X = {BN.format(2)}\n'
       + RELU.format("2_relu"),
       '    for k, (F, size, padding) in [(2, (F2, f, "same")), (3, (F3, 1, "valid"))]:\n'
       '        X = Conv2D(F, size, padding=padding, kernel_initializer=initializer(seed=0),\n'
       '                   name=layer_name(name, f"{k}_conv"))(X)\n'
       '        X = BatchNormalization(axis=3, name=layer_name(name, f"{k}_bn"))'
       '(X, training=training)\n'
       '        if k == 2:\n'
       '            X = Activation("relu", name=layer_name(name, "2_relu"))(X)\n'),
      (CONV3 + BN3, "")],
     "components 2 and 3 in one loop over a table"),
    ("variant-identity-defaults-spelled-out", "identity_block",
     [(BN.format(2), BN.format(2).replace(
         "axis=3,", 'axis=3, momentum=0.99, epsilon=1e-3, gamma_initializer="ones",\n'
         '                           beta_initializer="zeros", moving_mean_initializer="zeros",\n'
         '                           moving_variance_initializer="ones",')),
      (BN.format(3), BN.format(3).replace(
         "axis=3,", "axis=3, gamma_initializer=keras.initializers.Ones(),\n"
         "                           beta_initializer=keras.initializers.Constant(0.0),")),
      ('kernel_initializer=initializer(seed=0), name=layer_name(name, "2_conv")',
       'kernel_initializer=initializer(0), name=layer_name(name, "2_conv")')],
     "BatchNormalization's defaults written out (as strings, as initializer objects); the "
     "seed passed by position"),
    ("variant-conv-one-seeded-initializer", "convolutional_block",
     [("    F1, F2, F3 = filters\n",
       "    F1, F2, F3 = filters\n    seeded = initializer(seed=0)  # one object for all\n"),
      ('kernel_initializer=initializer(seed=0), name=layer_name(name, "2_conv")',
       'kernel_initializer=seeded, name=layer_name(name, "2_conv")'),
      (CONV3, CONV3.replace("initializer(seed=0)", "seeded")),
      ('                        kernel_initializer=initializer(seed=0),\n'
       '                        name=layer_name(name, "0_conv"))',
       '                        kernel_initializer=seeded, name=layer_name(name, "0_conv"))')],
     "one seeded initializer object, initializer(seed=0), shared by the convolutions"),
    ("variant-conv-renamed-functional-add", "convolutional_block",
     [(ADD, "    X = keras.layers.add([X_shortcut, X])\n")],
     "keras.layers.add with the inputs in the other order"),
    ("variant-conv-shortcut-first", "convolutional_block",
     [('    X_shortcut = X\n',
       '    X_shortcut = Conv2D(F3, (1, 1), strides=(s, s), '
       'kernel_initializer=initializer(seed=0),\n'
       '                        name=layer_name(name, "0_conv"))(X)\n'
       '    X_shortcut = BatchNormalization(axis=-1, name=layer_name(name, "0_bn"))(\n'
       '        X_shortcut, training=training)\n'),
      ('    X_shortcut = Conv2D(F3, kernel_size=1, strides=s, padding="valid",\n'
       '                        kernel_initializer=initializer(seed=0),\n'
       '                        name=layer_name(name, "0_conv"))(X_shortcut)\n'
       '    X_shortcut = BatchNormalization(axis=3, name=layer_name(name, "0_bn"))(\n'
       '        X_shortcut, training=training)\n', "")],
     "the projection shortcut built first, with tuple kernel and strides and axis=-1"),
    ("variant-conv-helper-function", "convolutional_block",
     [('    F1, F2, F3 = filters\n',
       '    F1, F2, F3 = filters\n\n'
       '    def conv_bn(Z, F, size, stride, part, padding="valid"):\n'
       '        Z = Conv2D(F, size, strides=stride, padding=padding,\n'
       '                   kernel_initializer=initializer(seed=0), '
       'name=layer_name(name, part + "_conv"))(Z)\n'
       '        return BatchNormalization(axis=3, name=layer_name(name, part + "_bn"))'
       '(Z, training=training)\n\n'),
      (CONV3 + BN3, '    X = conv_bn(X, F3, 1, 1, "3")\n'),
      ('    X_shortcut = Conv2D(F3, kernel_size=1, strides=s, padding="valid",\n'
       '                        kernel_initializer=initializer(seed=0),\n'
       '                        name=layer_name(name, "0_conv"))(X_shortcut)\n'
       '    X_shortcut = BatchNormalization(axis=3, name=layer_name(name, "0_bn"))(\n'
       '        X_shortcut, training=training)\n',
       '    X_shortcut = conv_bn(X_shortcut, F3, 1, s, "0")\n')],
     "a nested conv-then-BatchNorm helper for the third convolution and the shortcut"),
    ("variant-resnet-explicit-calls", "ResNet50",
     [("    stages = [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]\n"
       "    for stage, (width, blocks, stride) in enumerate(stages, start=2):\n"
       "        filters = [width, width, 4 * width]\n"
       '        X = convolutional_block(X, f=3, filters=filters, s=stride, '
       'name=f"conv{stage}_block1")\n'
       "        for number in range(2, blocks + 1):\n"
       '            X = identity_block(X, 3, filters, name=f"conv{stage}_block{number}")\n',
       "    table = {2: ([64, 64, 256], 3, 1), 3: ([128, 128, 512], 4, 2),\n"
       "             4: ([256, 256, 1024], 6, 2), 5: ([512, 512, 2048], 3, 2)}\n"
       "    for stage in sorted(table):\n"
       "        f_list, count, stride = table[stage]\n"
       '        X = convolutional_block(X, 3, f_list, stride, name="conv%d_block1" % stage)\n'
       "        block = 2\n"
       "        while block <= count:\n"
       '            X = identity_block(X, f=3, filters=f_list, '
       'name="conv%d_block%d" % (stage, block))\n'
       "            block += 1\n")],
     "a dict stage table, positional arguments, a while loop"),
    ("variant-resnet-partial-blocks", "ResNet50",
     [("def ResNet50(", "import functools\n\nidentity3 = functools.partial(identity_block, f=3)\n"
       "first_block = functools.partial(convolutional_block, f=3)\n\n\ndef ResNet50("),
      ("X = convolutional_block(X, f=3, filters=filters,", "X = first_block(X, filters=filters,"),
      ("X = identity_block(X, 3, filters,", "X = identity3(X, filters=filters,")],
     "the blocks bound with functools.partial at cell level"),
    ("variant-resnet-block-argument", "ResNet50",
     [("def ResNet50(input_shape=(64, 64, 3), classes=6):",
       "def ResNet50(input_shape=(64, 64, 3), classes=6, block=identity_block):"),
      ("X = identity_block(X, 3, filters,", "X = block(X, 3, filters,")],
     "the identity block passed as a default argument"),
    ("variant-resnet-avg-pool-keywords", "ResNet50",
     [('AveragePooling2D((2, 2), name="avg_pool")',
       'AveragePooling2D(pool_size=2, name="avg_pool")')],
     "AveragePooling2D(pool_size=2): its strides default to the window"),
    ("variant-resnet-avg-pool-strides-spelled-out", "ResNet50",
     [('AveragePooling2D((2, 2), name="avg_pool")',
       'AveragePooling2D((2, 2), strides=(2, 2), padding="valid", name="avg_pool")')],
     "AveragePooling2D with its default strides and padding written out"),
    ("variant-bn-itertools", "bn_behaviour",
     [("    spread = max(float(np.max(np.abs(p - q))) for p in predictions for q in predictions)\n",
       "    stacked = np.stack(predictions)\n"
       "    spread = float(np.max(stacked.max(axis=0) - stacked.min(axis=0)))\n")],
     "the spread as the largest max-minus-min over batch sizes"),
    ("variant-reestimate-array-split", "reestimate_bn_statistics",
     [("    for k, start in enumerate(range(0, len(X), batch_size), start=1):\n"
       "        for layer in bn_layers:\n"
       "            layer.momentum = (k - 1) / k\n"
       "        model(X[start:start + batch_size], training=True)\n",
       "    starts = list(range(0, len(X), batch_size))\n"
       "    for index in range(len(starts)):\n"
       "        for layer in bn_layers:\n"
       "            layer.momentum = index / (index + 1)\n"
       "        batch = X[starts[index]:starts[index] + batch_size]\n"
       "        model(batch, training=True)\n")],
     "index-based loop, momentum index/(index+1)"),
    ("variant-transfer-guide-style", "transfer_model",
     [("    X = backbone(X_input)\n", "    X = backbone(X_input, training=False)\n")],
     "backbone(x, training=False) as in the Keras guide"),
    ("variant-unfreeze-class-name-loss-object", "unfreeze_last_stage",
     [("        layer.trainable = (layer.name.startswith(prefix)\n"
       "                           and not isinstance(layer, BatchNormalization))\n",
       "        is_norm = type(layer).__name__ == \"BatchNormalization\"\n"
       "        layer.trainable = layer.name[:len(prefix)] == prefix and not is_norm\n"),
      ('loss="categorical_crossentropy"', "loss=keras.losses.CategoricalCrossentropy()")],
     "slicing and class names; a loss object"),
    ("variant-unfreeze-freeze-the-rest", "unfreeze_last_stage",
     [("    for layer in backbone.layers:\n"
       "        layer.trainable = (layer.name.startswith(prefix)\n"
       "                           and not isinstance(layer, BatchNormalization))\n",
       "    for layer in backbone.layers:  "
       "# everything is trainable now: freeze all but prefix...\n"
       "        if not layer.name.startswith(prefix) or isinstance(layer, BatchNormalization):\n"
       "            layer.trainable = False\n"),
      ("keras.optimizers.Adam(learning_rate=learning_rate)",
       "keras.optimizers.Adam(learning_rate)")],
     "the backbone made trainable, then everything but the prefix frozen again; Adam's rate "
     "passed by position"),
    ("variant-unfreeze-metric-object", "unfreeze_last_stage",
     [('    backbone = model.get_layer("backbone")\n',
       '    backbone = next(layer for layer in model.layers if layer.name == "backbone")\n'),
      ('metrics=["accuracy"]', 'metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")]')],
     "the backbone found by a search over model.layers; the accuracy metric as an object"),
    ("variant-bn-combinations", "bn_behaviour",
     [("    spread = max(float(np.max(np.abs(p - q))) for p in predictions for q in predictions)\n",
       "    import itertools\n"
       "    spread = max((float(np.abs(p - q).max())\n"
       "                  for p, q in itertools.combinations(predictions, 2)), default=0.0)\n")],
     "the spread over pairs from itertools.combinations (0.0 for a single batch size)"),
    ("variant-reestimate-reciprocal-dict", "reestimate_bn_statistics",
     [("    momentums = [layer.momentum for layer in bn_layers]\n",
       "    momentums = {layer.name: layer.momentum for layer in bn_layers}\n"),
      ("            layer.momentum = (k - 1) / k\n",
       "            layer.momentum = 1.0 - 1.0 / k\n"),
      ("    for layer, momentum in zip(bn_layers, momentums):\n"
       "        layer.momentum = momentum",
       "    for layer in bn_layers:\n"
       "        layer.momentum = momentums[layer.name]")],
     "momentum 1 - 1/k; the saved momentums in a dict by layer name"),
    ("variant-transfer-sequential-head", "transfer_model",
     [("    X_input = Input(pretrained.input.shape[1:])\n"
       "    X = backbone(X_input)\n"
       '    X = Dense(classes, activation="softmax", kernel_initializer=glorot_uniform(seed=0),\n'
       '              name="new_predictions")(X)\n'
       '    return Model(inputs=X_input, outputs=X, name="transfer")',
       "    return keras.Sequential([\n"
       "        Input(shape=tuple(pretrained.input.shape[1:])),\n"
       "        backbone,\n"
       '        Dense(classes, activation="softmax", kernel_initializer=glorot_uniform(seed=0),\n'
       '              name="new_predictions"),\n'
       '    ], name="transfer")')],
     "a keras.Sequential of the input, the backbone and the new head"),
    # correct answers whose tests write a warning to stderr: nbgrader alone would give them 0
    ("variant-reestimate-submodel-warning", "reestimate_bn_statistics",
     [("    bn_layers = [layer", "    runner = keras.Model(model.inputs, model.outputs)\n"
       "    bn_layers = [layer"),
      ("        model(X[start:start + batch_size], training=True)\n",
       "        runner(X[start:start + batch_size], training=True)  # Keras: UserWarning\n")],
     "a Model(model.inputs, ...) over the same layers (Keras prints a UserWarning)"),
    ("variant-bn-np-array-warning", "bn_behaviour",
     [("    saved = [w.numpy() for w in model.non_trainable_weights]\n",
       "    saved = [np.array(w) for w in model.non_trainable_weights]  # DeprecationWarning\n")],
     "np.array(variable) (NumPy 2 prints a DeprecationWarning)"),
    ("variant-transfer-prints-to-stderr", "transfer_model",
     [('    return Model(inputs=X_input, outputs=X, name="transfer")',
       '    import sys\n    print("transfer_model: backbone frozen", file=sys.stderr)\n'
       '    return Model(inputs=X_input, outputs=X, name="transfer")')],
     "a progress line printed to stderr"),
]
