"""The Beyond ResNet50 assignment's catalog (course/audit/catalog.py): realistic mistakes and
correct answers written differently, as text edits of the instructor solution's answer cells.
Data only: imports nothing of the course. Each entry: (name, graded function, [(old, new), ...],
why[, what the public test's message says]).

Left out as equivalent (no test can tell it from the solution): in grad_cam, channel weights
summed instead of averaged (the division by the maximum cancels the factor); in warmup_cosine,
`step <= warmup_steps` (both formulas give `peak` at the end of the warm-up).
"""

# preact_block
PRE_BN = ('    preact = BatchNormalization(epsilon=1.001e-5, '
          'name=layer_name(name, "preact_bn"))(X)\n')
PRE_RELU = '    preact = Activation("relu", name=layer_name(name, "preact_relu"))(preact)\n'
CONV0 = ('        shortcut = Conv2D(4 * filters, 1, strides=stride,\n'
         '                          name=layer_name(name, "0_conv"))(preact)\n')
POOL = "    elif stride > 1:\n        shortcut = MaxPooling2D(1, strides=stride)(X)\n"
CONV1 = '    Y = Conv2D(filters, 1, use_bias=False, name=layer_name(name, "1_conv"))(preact)\n'
BN1 = '    Y = BatchNormalization(epsilon=1.001e-5, name=layer_name(name, "1_bn"))(Y)\n'
RELU1 = '    Y = Activation("relu", name=layer_name(name, "1_relu"))(Y)\n'
PAD2 = '    Y = ZeroPadding2D(1, name=layer_name(name, "2_pad"))(Y)\n'
CONV2 = ('    Y = Conv2D(filters, kernel_size, strides=stride, use_bias=False,\n'
         '               name=layer_name(name, "2_conv"))(Y)\n')
CONV3 = '    Y = Conv2D(4 * filters, 1, name=layer_name(name, "3_conv"))(Y)\n'
OUT = '    return Add(name=layer_name(name, "out"))([shortcut, Y])\n'
# gap_head
GAP = '    X = GlobalAveragePooling2D(name="avg_pool")(X)\n'
DENSE = '    return Dense(classes, activation="softmax", name="predictions")(X)\n'
# ResNet50V2
STAGES = ("    for stage, filters, blocks, stride in "
          "[(2, 64, 3, 2), (3, 128, 4, 2), (4, 256, 6, 2),\n"
          "                                           (5, 512, 3, 1)]:\n")
CALL = ("            X = preact_block(X, filters, stride=stride if block == blocks else 1,\n"
        '                             conv_shortcut=block == 1, '
        'name=f"conv{stage}_block{block}")\n')
STEM = ('    X = ZeroPadding2D(3, name="conv1_pad")(X_input)\n'
        '    X = Conv2D(64, 7, strides=2, name="conv1_conv")(X)\n')
POOL1 = ('    X = ZeroPadding2D(1, name="pool1_pad")(X)\n'
         '    X = MaxPooling2D(3, strides=2, name="pool1_pool")(X)\n')
POST = ('    X = BatchNormalization(epsilon=1.001e-5, name="post_bn")(X)\n'
        '    X = Activation("relu", name="post_relu")(X)\n')
RETURN = '    return keras.Model(X_input, gap_head(X, classes), name="resnet50v2")\n'
# warmup_cosine
CAST = '    step = ops.cast(step, "float32")\n'
WARM = "    warm = peak * step / warmup_steps\n"
PROGRESS = ("    progress = ops.clip((step - warmup_steps) / (total_steps - warmup_steps), 0.0, "
            "1.0)\n")
DECAY = "    decay = peak * (1.0 + ops.cos(np.pi * progress)) / 2.0\n"
WHERE = "    return ops.where(step < warmup_steps, warm, decay)\n"
# augmenter
FLIP = '        layers.RandomFlip("horizontal", seed=seed),\n'
ROTATION = '        layers.RandomRotation(0.07, fill_mode="nearest", seed=seed),\n'
ZOOM = '        layers.RandomZoom(0.2, fill_mode="nearest", seed=seed),\n'
SHIFT = '        layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=seed),\n'
BRIGHTNESS = '        layers.RandomBrightness(0.3, value_range=(0, 1), seed=seed),\n'
CONTRAST = '        layers.RandomContrast(0.5, value_range=(0, 1), seed=seed),\n'
CLOSE = '    ], name="augmentation")\n'
# class_metrics
COUNT = "    np.add.at(confusion, (np.asarray(labels), np.asarray(predictions)), 1)\n"
SUMS = "    predicted, actual = confusion.sum(axis=0), confusion.sum(axis=1)\n"
PRECISION = ("    precision = np.divide(correct, predicted, out=np.zeros(classes), "
             "where=predicted > 0)\n")
RECALL = "    recall = np.divide(correct, actual, out=np.zeros(classes), where=actual > 0)\n"
F1 = "    f1 = np.divide(2 * precision * recall, both, out=np.zeros(classes), where=both > 0)\n"
# grad_cam
INNER = ("    inner = keras.Model(model.input, [model.get_layer(layer_name).output, "
         "head.input])\n")
CALL_INNER = "        features, pooled = inner(batch, training=False)\n"
SCORES = "        scores = tf.matmul(pooled, head.kernel) + head.bias\n"
PICK = ("        if class_index is None:\n"
        "            class_index = int(tf.argmax(scores[0]))\n")
WEIGHTS = "    weights = tf.reduce_mean(gradients, axis=(0, 1))\n"
HEAT = "    heatmap = tf.nn.relu(tf.reduce_sum(features[0] * weights, axis=-1)).numpy()\n"
NORMALIZE = "    if heatmap.max() > 0:\n        heatmap = heatmap / heatmap.max()\n"
RESIZE = ('    resized = tf.image.resize(heatmap[..., np.newaxis], image.shape[:2], '
          'method="bilinear")\n')
# the last line of an answer cell has no newline after it
OUT, DENSE, RETURN, WHERE, CLOSE = (line.rstrip("\n")
                                    for line in (OUT, DENSE, RETURN, WHERE, CLOSE))

# At least one mistake per graded function: the sample submissions (make demo).
SAMPLES = [
    ("wrong-preact-shortcut-from-x", "preact_block",
     [(CONV0, CONV0.replace("(preact)", "(X)"))],
     "the projection shortcut takes X instead of the pre-activation",
     "must take the pre-activation"),
    ("wrong-head-flatten", "gap_head",
     [(GAP, '    X = keras.layers.Flatten(name="avg_pool")(X)\n')],
     "Flatten instead of global average pooling", "GlobalAveragePooling2D"),
    ("wrong-v2-stride-first-block", "ResNet50V2",
     [(CALL, CALL.replace("stride=stride if block == blocks else 1",
                          "stride=stride if block == 1 else 1"))],
     "the stride in each stage's first block, as in V1", "block 1 should be"),
    ("wrong-schedule-no-warmup-at-zero", "warmup_cosine",
     [(WARM, "    warm = peak * (step + 1) / warmup_steps\n")],
     "the warm-up starts at peak / warmup_steps, not 0", r"warmup_cosine\(0,"),
    ("wrong-augmenter-vertical-flip", "augmenter",
     [(FLIP, FLIP.replace('"horizontal"', '"horizontal_and_vertical"'))],
     "vertical flips too: an upside-down hand", "vertical flip"),
    ("wrong-metrics-transposed", "class_metrics",
     [(COUNT, "    np.add.at(confusion, (np.asarray(predictions), np.asarray(labels)), 1)\n")],
     "rows and columns swapped", "transposed"),
    ("wrong-grad-cam-no-relu", "grad_cam",
     [(HEAT, "    heatmap = tf.reduce_sum(features[0] * weights, axis=-1).numpy()\n")],
     "no ReLU: what speaks against the class counts too", "differs from Grad-CAM"),
]

MISTAKES = [
    # preact_block
    ("preact-relu-after-add", "preact_block",
     [(OUT, '    return Activation("relu")(Add(name=layer_name(name, "out"))([shortcut, Y]))\n')],
     "a ReLU after the addition, as in V1", "must end with NAME_out"),
    ("preact-stride-on-first-conv", "preact_block",
     [(CONV1, CONV1.replace("1, use_bias", "1, strides=stride, use_bias")),
      (CONV2, CONV2.replace("strides=stride", "strides=1"))],
     "the stride on the first 1×1 convolution, as in V1", "NAME_1_conv has"),
    ("preact-default-epsilon", "preact_block",
     [(BN1, BN1.replace("epsilon=1.001e-5, ", ""))],
     "BatchNormalization with Keras' default epsilon", "epsilon"),
    ("preact-bias-before-bn", "preact_block",
     [(CONV1, CONV1.replace(", use_bias=False", ""))],
     "a bias on the convolution before BatchNorm", "use_bias"),
    ("preact-no-pool-shortcut", "preact_block", [(POOL, "")],
     "X as the shortcut even when the block has a stride", "raised"),
    ("preact-same-padding", "preact_block",
     [(PAD2, ""), (CONV2, CONV2.replace("use_bias=False,", 'padding="same", use_bias=False,'))],
     "padding='same' instead of the ZeroPadding2D layer", "NAME_2_pad"),
    ("preact-no-bn-first", "preact_block",
     [(PRE_BN + PRE_RELU,
       '    preact = Activation("relu", name=layer_name(name, "preact_relu"))(X)\n')],
     "the pre-activation without its BatchNorm", "NAME_preact_bn"),
    ("preact-main-path-from-x", "preact_block",
     [(CONV1, CONV1.replace("(preact)", "(X)"))],
     "the main path starts from X, not the pre-activation", "must take NAME_preact_relu"),
    ("preact-last-conv-filters", "preact_block",
     [(CONV3, CONV3.replace("4 * filters", "filters"))],
     "the last convolution with `filters`, not 4 · filters", "raised"),
    ("preact-relu-after-last-conv", "preact_block",
     [(CONV3, CONV3 + '    Y = Activation("relu")(Y)\n')],
     "a ReLU after the last convolution", "NAME_out must add"),
    # gap_head
    ("head-v1-pooling", "gap_head",
     [(GAP, '    X = keras.layers.Flatten()'
            '(keras.layers.AveragePooling2D(2, name="avg_pool")(X))\n')],
     "assignment 1's AveragePooling2D(2) + Flatten", "GlobalAveragePooling2D"),
    ("head-max-pooling", "gap_head",
     [(GAP, '    X = keras.layers.GlobalMaxPooling2D(name="avg_pool")(X)\n')],
     "global max pooling", "GlobalAveragePooling2D"),
    ("head-no-softmax", "gap_head",
     [(DENSE, '    return Dense(classes, name="predictions")(X)\n')],
     "logits, no softmax", "differ from the mean"),
    ("head-sigmoid", "gap_head",
     [(DENSE, DENSE.replace('"softmax"', '"sigmoid"'))],
     "sigmoid instead of softmax", "differ from the mean"),
    ("head-classes-fixed", "gap_head",
     [(DENSE, DENSE.replace("Dense(classes,", "Dense(6,"))],
     "six classes whatever `classes` says", "output shape"),
    ("head-dense-unnamed", "gap_head",
     [(DENSE, '    return Dense(classes, activation="softmax")(X)\n')],
     "the Dense layer not named predictions", "predictions"),
    ("head-pool-unnamed", "gap_head", [(GAP, "    X = GlobalAveragePooling2D()(X)\n")],
     "the pooling not named avg_pool", "avg_pool"),
    ("head-dropout", "gap_head",
     [(GAP, GAP + "    X = keras.layers.Dropout(0.5)(X)\n")],
     "a Dropout between the pooling and the Dense layer (only training changes)",
     "behaves differently in training"),
    ("head-hidden-layer", "gap_head",
     [(GAP, GAP + '    X = Dense(64, activation="relu")(X)\n')],
     "an extra hidden Dense layer", "weights"),
    # ResNet50V2
    ("v2-conv5-stride", "ResNet50V2",
     [(STAGES, STAGES.replace("(5, 512, 3, 1)", "(5, 512, 3, 2)"))],
     "a stride of 2 in conv5 too", "block 16 should be"),
    ("v2-stem-bn", "ResNet50V2",
     [(STEM, STEM + '    X = BatchNormalization(name="conv1_bn")(X)\n'
                    '    X = Activation("relu", name="conv1_relu")(X)\n')],
     "assignment 1's BatchNorm and ReLU in the stem", "the only BatchNormalization outside"),
    ("v2-no-post", "ResNet50V2", [(POST, "")],
     "no post_bn and post_relu before the head", "post_bn"),
    ("v2-no-post-relu", "ResNet50V2",
     [(POST, '    X = BatchNormalization(epsilon=1.001e-5, name="post_bn")(X)\n')],
     "post_bn without post_relu", "post_relu"),
    ("v2-conv-shortcut-everywhere", "ResNet50V2",
     [(CALL, CALL.replace("conv_shortcut=block == 1", "conv_shortcut=True"))],
     "a projection shortcut in every block", "block 2 should be"),
    ("v2-blocks-from-zero", "ResNet50V2",
     [(CALL, CALL.replace('name=f"conv{stage}_block{block}"',
                          'name=f"conv{stage}_block{block - 1}"'))],
     "blocks numbered from 0 in the names", "name='conv2_block1'"),
    ("v2-stem-same-padding", "ResNet50V2",
     [(STEM, '    X = Conv2D(64, 7, strides=2, padding="same", name="conv1_conv")(X_input)\n')],
     "padding='same' instead of conv1_pad", "conv1_pad"),
    ("v2-pool-same-padding", "ResNet50V2",
     [(POOL1, '    X = MaxPooling2D(3, strides=2, padding="same", name="pool1_pool")(X)\n')],
     "padding='same' instead of pool1_pad", "pool1_pad"),
    ("v2-conv4-five-blocks", "ResNet50V2",
     [(STAGES, STAGES.replace("(4, 256, 6, 2)", "(4, 256, 5, 2)"))],
     "five blocks in conv4", "should be"),
    ("v2-classes-fixed", "ResNet50V2",
     [(RETURN, RETURN.replace("gap_head(X, classes)", "gap_head(X, 6)"))],
     "six classes whatever `classes` says", "classes=4"),
    # warmup_cosine
    ("schedule-not-clipped", "warmup_cosine",
     [(PROGRESS, "    progress = ops.maximum((step - warmup_steps) / "
                 "(total_steps - warmup_steps), 0.0)\n")],
     "the cosine not stopped at total_steps: the rate rises again", "expected"),
    ("schedule-cosine-over-total", "warmup_cosine",
     [(PROGRESS, "    progress = ops.clip(step / total_steps, 0.0, 1.0)\n")],
     "the cosine counted from step 0, not from the end of the warm-up", "expected"),
    ("schedule-wrong-denominator", "warmup_cosine",
     [(PROGRESS, "    progress = ops.clip((step - warmup_steps) / total_steps, 0.0, 1.0)\n")],
     "the decay over total_steps steps instead of total_steps - warmup_steps", "expected"),
    ("schedule-no-cast", "warmup_cosine", [(CAST, "")],
     "the step not cast to float: integer tensors", "tensor|raised|compiled"),
    ("schedule-math-cos", "warmup_cosine",
     [(DECAY, "    import math\n    decay = peak * (1.0 + math.cos(math.pi * progress)) / 2.0\n")],
     "math.cos on a tensor: fails where the optimizer runs it", "compiled graph"),
    ("schedule-python-if", "warmup_cosine",
     [(WHERE, "    if step < warmup_steps:\n        return warm\n    return decay\n")],
     "a Python if on the step: fails in fit's compiled graph", "compiled graph"),
    ("schedule-quarter-cosine", "warmup_cosine",
     [(DECAY, "    decay = peak * ops.cos(np.pi / 2 * progress)\n")],
     "a quarter cosine, peak · cos(pi p / 2)", "expected"),
    ("schedule-linear-decay", "warmup_cosine",
     [(DECAY, "    decay = peak * (1.0 - progress)\n")],
     "a linear decay instead of the cosine", "expected"),
    ("schedule-no-warmup", "warmup_cosine",
     [(WHERE, "    return decay\n")],
     "no warm-up: the peak from step 0", "expected"),
    # augmenter
    ("augmenter-value-range-255", "augmenter",
     [(BRIGHTNESS, "        layers.RandomBrightness(0.3, seed=seed),\n")],
     "RandomBrightness with Keras' default value range, 0-255", "value_range"),
    ("augmenter-no-seed", "augmenter",
     [(ZOOM, '        layers.RandomZoom(0.2, fill_mode="nearest"),\n')],
     "no seed on one layer", "seed"),
    ("augmenter-zoom-each-axis", "augmenter",
     [(ZOOM, ZOOM.replace("RandomZoom(0.2,", "RandomZoom(0.2, 0.2,"))],
     "RandomZoom(0.2, 0.2): each axis zoomed by its own factor", "width_factor"),
    ("augmenter-half-turn", "augmenter",
     [(ROTATION, ROTATION.replace("(0.07,", "(0.5,"))],
     "rotations up to half a turn", "factor"),
    ("augmenter-flip-last", "augmenter",
     [(FLIP, ""), (CONTRAST, CONTRAST + FLIP)],
     "the flip last, not first", "layer 1 is a"),
    ("augmenter-reflect-fill", "augmenter",
     [(SHIFT, SHIFT.replace(' fill_mode="nearest",', ""))],
     "Keras' default fill mode (reflect)", "fill_mode"),
    ("augmenter-no-contrast", "augmenter", [(CONTRAST, "")],
     "no contrast changes", "5 layers"),
    ("augmenter-list", "augmenter",
     [("    return keras.Sequential([\n", "    return ([\n"), (CLOSE, "    ])\n")],
     "a list of layers instead of a model", "keras.Sequential"),
    ("augmenter-unnamed", "augmenter", [(CLOSE, "    ])\n")],
     "the Sequential not named augmentation", "name='augmentation'"),
    ("augmenter-crop", "augmenter",
     [(SHIFT, "        layers.RandomCrop(56, 56, seed=seed),\n")],
     "a random crop to 56×56 instead of a shift", "layer 4 is a"),
    # class_metrics
    ("metrics-nan", "class_metrics",
     [(PRECISION, "    precision = correct / predicted\n")],
     "0/0 left as NaN for a class never predicted", "NaN"),
    ("metrics-swapped-axes", "class_metrics",
     [(SUMS, "    predicted, actual = confusion.sum(axis=1), confusion.sum(axis=0)\n")],
     "precision and recall from the wrong sums", "precision ="),
    ("metrics-float-matrix", "class_metrics",
     [("    confusion = np.zeros((classes, classes), dtype=np.int64)\n",
       "    confusion = np.zeros((classes, classes))\n")],
     "a float confusion matrix", "integer"),
    ("metrics-arithmetic-mean", "class_metrics",
     [(F1, "    f1 = (precision + recall) / 2\n")],
     "F1 as the arithmetic mean of precision and recall", "f1 ="),
    ("metrics-fancy-index", "class_metrics",
     [(COUNT, "    confusion[np.asarray(labels), np.asarray(predictions)] += 1\n")],
     "confusion[labels, predictions] += 1 counts each pair once", "confusion matrix"),
    ("metrics-size-from-labels", "class_metrics",
     [("    confusion = np.zeros((classes, classes), dtype=np.int64)\n",
       "    classes = int(max(np.max(labels), np.max(predictions))) + 1\n"
       "    confusion = np.zeros((classes, classes), dtype=np.int64)\n")],
     "the size from the largest label seen, not `classes`", "shape"),
    ("metrics-zero-division-one", "class_metrics",
     [(PRECISION, PRECISION.replace("np.zeros(classes)", "np.ones(classes)"))],
     "1 reported for a class never predicted", "precision ="),
    ("metrics-f1-nan", "class_metrics",
     [(F1, "    f1 = 2 * precision * recall / both\n")],
     "F1 is 0/0 = NaN when precision and recall are both 0", "NaN"),
    ("metrics-keys", "class_metrics",
     [('    return {"confusion": confusion, "precision": precision, "recall": recall, "f1": f1}',
       '    return {"confusion": confusion, "precision": precision, "recall": recall, "F1": f1}')],
     "the key F1 instead of f1", "exactly the keys"),
    # grad_cam
    ("cam-max-weights", "grad_cam",
     [(WEIGHTS, "    weights = tf.reduce_max(gradients, axis=(0, 1))\n")],
     "channel weights by the largest gradient instead of the mean", "differs from Grad-CAM"),
    ("cam-min-max", "grad_cam",
     [(NORMALIZE, "    if heatmap.max() > heatmap.min():\n"
                  "        heatmap = (heatmap - heatmap.min()) / "
                  "(heatmap.max() - heatmap.min())\n")],
     "min-max scaling instead of division by the maximum", "differs from Grad-CAM"),
    ("cam-nan", "grad_cam",
     [(NORMALIZE, "    heatmap = heatmap / heatmap.max()\n")],
     "0/0 when the gradient is 0", "NaN"),
    ("cam-nearest", "grad_cam",
     [(RESIZE, RESIZE.replace('"bilinear"', '"nearest"'))],
     "nearest-neighbour resizing", "differs from Grad-CAM"),
    ("cam-resize-width-height", "grad_cam",
     [(RESIZE, RESIZE.replace("image.shape[:2]", "(image.shape[1], image.shape[0])"))],
     "the map resized to (width, height): only a square image hides it", "12, 20"),
    ("cam-no-resize", "grad_cam",
     [(RESIZE, "    resized = tf.constant(heatmap[..., np.newaxis])\n")],
     "the map at the layer's size", "heatmap shape"),
    ("cam-class-ignored", "grad_cam",
     [(PICK, "        class_index = int(tf.argmax(scores[0]))\n")],
     "class_index ignored: always the predicted class", "class_index=0"),
    ("cam-training-mode", "grad_cam",
     [(CALL_INNER, CALL_INNER.replace("training=False", "training=True"))],
     "the model called in training mode (BatchNorm with the image's own statistics)",
     "differs from Grad-CAM"),
    ("cam-gradient-of-image", "grad_cam",
     [(INNER, "    inner = keras.Model(model.input, [model.input, head.input])\n")],
     "the gradient by the image instead of the layer's output", "raised"),
    ("cam-negative-weights-relu", "grad_cam",
     [(WEIGHTS, "    weights = tf.nn.relu(tf.reduce_mean(gradients, axis=(0, 1)))\n"),
      (HEAT, "    heatmap = tf.reduce_sum(features[0] * weights, axis=-1).numpy()\n")],
     "the ReLU on the channel weights instead of on the map", "differs from Grad-CAM"),
    ("cam-probability", "grad_cam",
     [(INNER, "    inner = keras.Model(model.input, [model.get_layer(layer_name).output, "
              "model.output])\n"),
      (SCORES, "        scores = pooled  # the model's output: the class probabilities\n")],
     "the gradient of the class probability (after the softmax) instead of the score before it",
     "differs from Grad-CAM"),
    ("cam-softmax-removed-in-place", "grad_cam",
     [(INNER, "    head.activation = None  # the model now outputs the scores before the softmax\n"
              "    inner = keras.Model(model.input, [model.get_layer(layer_name).output, "
              "model.output])\n"),
      (SCORES, "        scores = pooled\n")],
     "the head's softmax removed in place: the right map, but the model outputs scores "
     "from then on",
     "no longer sum to 1"),
    ("cam-all-zeros", "grad_cam",
     [(HEAT, "    heatmap = np.zeros(features.shape[1:3], dtype=np.float32)\n")],
     "a map of zeros, right for the zero-gradient case only (before the public test's model had "
     "maps of both signs, it passed every case)", "differs from Grad-CAM"),
]

VARIANTS = [
    ("variant-preact-relu-layers-add-swapped", "preact_block",
     [(RELU1, '    Y = keras.layers.ReLU(name=layer_name(name, "1_relu"))(Y)\n'),
      (OUT, '    return keras.layers.add([Y, shortcut], name=layer_name(name, "out"))\n')],
     "ReLU layers, keras.layers.add with the inputs swapped"),
    ("variant-preact-tuples", "preact_block",
     [(PAD2, '    Y = ZeroPadding2D(((1, 1), (1, 1)), name=layer_name(name, "2_pad"))(Y)\n'),
      (CONV2, '    Y = Conv2D(filters, (kernel_size, kernel_size), strides=(stride, stride), '
              'use_bias=False,\n               name=layer_name(name, "2_conv"))(Y)\n'),
      (POOL, "    elif stride != 1:\n"
             "        shortcut = MaxPooling2D(pool_size=(1, 1), strides=(stride, stride))(X)\n")],
     "tuples for sizes, strides and padding"),
    ("variant-preact-shortcut-last", "preact_block",
     [("    if conv_shortcut:\n" + CONV0 + POOL + "    else:\n        shortcut = X\n", ""),
      (OUT, "    shortcut = X\n"
            "    if conv_shortcut:\n"
            '        shortcut = Conv2D(4 * filters, 1, strides=stride, '
            'name=layer_name(name, "0_conv"))(preact)\n'
            "    elif stride > 1:\n"
            "        shortcut = MaxPooling2D(1, strides=stride)(shortcut)\n" + OUT)],
     "the shortcut built after the main path"),
    ("variant-head-separate-softmax", "gap_head",
     [(DENSE, '    X = Dense(classes, name="predictions")(X)\n'
              '    return keras.layers.Softmax()(X)\n')],
     "a Softmax layer after the Dense layer"),
    ("variant-head-keywords", "gap_head",
     [(GAP, '    X = keras.layers.GlobalAveragePooling2D(data_format="channels_last", '
            'keepdims=False, name="avg_pool")(X)\n'),
      (DENSE, '    return keras.layers.Dense(units=classes, name="predictions",\n'
              '                              activation=keras.activations.softmax)(X)\n')],
     "keyword arguments, keras.layers names, an activation function"),
    ("variant-head-one-line", "gap_head",
     [(GAP + DENSE, '    return Dense(classes, activation="softmax", name="predictions")(\n'
                    '        GlobalAveragePooling2D(name="avg_pool")(X))\n')],
     "one expression"),
    ("variant-v2-plan", "ResNet50V2",
     [(STAGES + "        for block in range(1, blocks + 1):\n" + CALL,
       "    plan = []\n"
       "    for stage, filters, blocks, last_stride in ((2, 64, 3, 2), (3, 128, 4, 2),\n"
       "                                                (4, 256, 6, 2), (5, 512, 3, 1)):\n"
       "        for block in range(1, blocks + 1):\n"
       "            plan.append(dict(filters=filters, conv_shortcut=block == 1,\n"
       "                             stride=last_stride if block == blocks else 1,\n"
       '                             name="conv%d_block%d" % (stage, block)))\n'
       "    for arguments in plan:\n"
       "        X = preact_block(X, **arguments)\n")],
     "a plan of keyword arguments first"),
    ("variant-v2-model-keywords", "ResNet50V2",
     [(RETURN, "    outputs = gap_head(X, classes=classes)\n"
               '    return keras.models.Model(inputs=X_input, outputs=outputs, '
               'name="resnet50v2")\n'),
      (POST, '    X = BatchNormalization(epsilon=1.001e-5, name="post_bn")(X)\n'
             '    X = keras.layers.ReLU(name="post_relu")(X)\n')],
     "keras.models.Model with keywords, a ReLU layer"),
    ("variant-v2-partial", "ResNet50V2",
     [("    X_input = Input(input_shape)\n",
       "    import functools\n\n"
       "    block = functools.partial(preact_block, kernel_size=3)\n"
       "    X_input = Input(input_shape)\n"),
      (CALL, "            X = block(X, filters, stride=stride if block_number == blocks else 1,\n"
             "                      conv_shortcut=block_number == 1,\n"
             '                      name=f"conv{stage}_block{block_number}")\n'),
      ("        for block in range(1, blocks + 1):\n",
       "        for block_number in range(1, blocks + 1):\n")],
     "the block bound with functools.partial"),
    ("variant-schedule-keras-cosine-decay", "warmup_cosine",
     [(CAST + WARM + PROGRESS + DECAY + WHERE,
       "    schedule = keras.optimizers.schedules.CosineDecay(\n"
       "        0.0, decay_steps=total_steps - warmup_steps, warmup_target=peak,\n"
       "        warmup_steps=warmup_steps)\n"
       "    return schedule(step)\n")],
     "Keras' own CosineDecay with a warm-up"),
    ("variant-schedule-tf-ops", "warmup_cosine",
     [(CAST, '    step = tf.cast(step, tf.float32)\n'),
      (PROGRESS, "    progress = tf.minimum(tf.maximum((step - warmup_steps) / "
                 "(total_steps - warmup_steps), 0.0), 1.0)\n"),
      (DECAY, "    decay = 0.5 * peak * (1.0 + tf.cos(3.141592653589793 * progress))\n"),
      (WHERE, "    return tf.where(step < warmup_steps, warm, decay)\n")],
     "TensorFlow operations, minimum and maximum for the clip"),
    ("variant-schedule-min-fraction", "warmup_cosine",
     [(WARM + PROGRESS + DECAY + WHERE,
       "    fraction = ops.minimum(step / warmup_steps, 1.0)\n"
       "    progress = ops.clip((step - warmup_steps) / (total_steps - warmup_steps), 0.0, 1.0)\n"
       "    return fraction * peak * 0.5 * (1.0 + ops.cos(np.pi * progress))\n")],
     "one formula: the warm-up fraction times the cosine factor"),
    ("variant-augmenter-add", "augmenter",
     [("    return keras.Sequential([\n" + FLIP + ROTATION + ZOOM + SHIFT + BRIGHTNESS + CONTRAST
       + CLOSE,
       '    model = keras.Sequential(name="augmentation")\n'
       '    model.add(layers.RandomFlip(mode="horizontal", seed=seed))\n'
       '    model.add(layers.RandomRotation(factor=(-0.07, 0.07), fill_mode="nearest", '
       'seed=seed))\n'
       '    model.add(layers.RandomZoom(height_factor=(-0.2, 0.2), fill_mode="nearest", '
       'seed=seed))\n'
       '    model.add(layers.RandomTranslation(height_factor=0.1, width_factor=0.1,\n'
       '                                       fill_mode="nearest", seed=seed))\n'
       '    model.add(layers.RandomBrightness(factor=0.3, value_range=[0, 1], seed=seed))\n'
       '    model.add(layers.RandomContrast(factor=0.5, value_range=(0.0, 1.0), seed=seed))\n'
       "    return model\n")],
     "Sequential.add, keywords, symmetric ranges as tuples"),
    ("variant-augmenter-loop", "augmenter",
     [("    return keras.Sequential([\n" + FLIP + ROTATION + ZOOM + SHIFT + BRIGHTNESS + CONTRAST
       + CLOSE,
       "    nearest = {\"fill_mode\": \"nearest\"}\n"
       "    unit = {\"value_range\": (0, 1)}\n"
       "    recipe = [(layers.RandomFlip, (\"horizontal\",), {}),\n"
       "              (layers.RandomRotation, (0.07,), nearest),\n"
       "              (layers.RandomZoom, (0.2,), nearest),\n"
       "              (layers.RandomTranslation, (0.1, 0.1), nearest),\n"
       "              (layers.RandomBrightness, (0.3,), unit),\n"
       "              (layers.RandomContrast, (0.5,), unit)]\n"
       "    return keras.Sequential([kind(*args, seed=seed, **kwargs) "
       "for kind, args, kwargs in recipe],\n"
       "                            name=\"augmentation\")\n")],
     "the layers built in a loop from a table"),
    ("variant-augmenter-imports", "augmenter",
     [("    return keras.Sequential([\n",
       "    from keras.layers import RandomBrightness, RandomContrast, RandomFlip\n"
       "    return keras.Sequential([\n"),
      (FLIP, '        RandomFlip("horizontal", seed=seed),\n'),
      (BRIGHTNESS, '        RandomBrightness(0.3, value_range=(0.0, 1.0), seed=seed),\n'),
      (CONTRAST, '        RandomContrast(0.5, value_range=[0, 1], seed=seed),\n')],
     "layers imported by name, value ranges as floats and a list"),
    ("variant-metrics-loop", "class_metrics",
     [(COUNT, "    for true, guess in zip(labels, predictions):\n"
              "        confusion[true, guess] += 1\n")],
     "a loop to count"),
    ("variant-metrics-bincount", "class_metrics",
     [("    confusion = np.zeros((classes, classes), dtype=np.int64)\n" + COUNT,
       "    pairs = np.asarray(labels) * classes + np.asarray(predictions)\n"
       "    confusion = np.bincount(pairs, minlength=classes * classes)"
       ".reshape(classes, classes)\n")],
     "np.bincount of the pairs"),
    ("variant-metrics-errstate", "class_metrics",
     [(PRECISION + RECALL,
       "    with np.errstate(divide=\"ignore\", invalid=\"ignore\"):\n"
       "        precision = np.nan_to_num(correct / predicted)\n"
       "        recall = np.nan_to_num(correct / actual)\n"),
      (F1, "    with np.errstate(divide=\"ignore\", invalid=\"ignore\"):\n"
           "        f1 = np.nan_to_num(2 * precision * recall / both)\n")],
     "division under np.errstate, NaN replaced by 0"),
    ("variant-cam-numpy", "grad_cam",
     [(WEIGHTS + HEAT,
       "    weights = np.mean(gradients.numpy(), axis=(0, 1))\n"
       "    heatmap = np.maximum(features[0].numpy() @ weights, 0.0)\n")],
     "the channel weights and the map in NumPy"),
    ("variant-cam-watch", "grad_cam",
     [(INNER, "    head_start = model.get_layer(layer_name)\n"
              "    inner = keras.Model(model.input, [head_start.output, head.input])\n"),
      (CALL_INNER, "        features, pooled = inner(batch, training=False)\n"
                   "        tape.watch(features)\n")],
     "the layer looked up first, tape.watch on the features"),
    ("variant-cam-divide-where", "grad_cam",
     [(NORMALIZE, "    top = heatmap.max()\n"
                  "    heatmap = np.divide(heatmap, top, out=np.zeros_like(heatmap), "
                  "where=top > 0)\n"),
      (RESIZE, "    resized = tf.image.resize(heatmap[..., None], "
               "(image.shape[0], image.shape[1]),\n"
               "                              method=tf.image.ResizeMethod.BILINEAR)\n")],
     "np.divide with where=, the resize method as a constant"),
    ("variant-cam-head-weights", "grad_cam",
     [(SCORES, "        kernel, bias = head.get_weights()\n"
               "        scores = pooled @ kernel + bias  # before the softmax\n")],
     "the head's weights as NumPy arrays, the scores with @"),
]
